// JSON over HTTP to the node that served the page, and the node's clock.

/** A failed request, with the server's error object ({code, message, argument, ...}) when there was one. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || "http_error";
    this.details = error;
  }
}

// Server time minus browser time, in seconds. A Pi without a real-time clock,
// or a phone set by hand, can be minutes off; "last seen 2 h ago" must use the
// server's clock, and the Date header of every reply tells it (to the second).
let skewS = 0;

/** Now, in epoch seconds, on the server's clock. */
export function serverNow() {
  return Date.now() / 1000 + skewS;
}

function learnSkew(response, sentAt) {
  const date = response.headers.get("Date");
  if (!date) return;
  const server = Date.parse(date) / 1000;
  if (Number.isNaN(server)) return;
  // The header is truncated to the second: aim at the middle of it, and of the round trip.
  const local = (sentAt + Date.now()) / 2000;
  const skew = server + 0.5 - local;
  // Within a second and a half the header cannot tell us more than "about right".
  skewS = Math.abs(skew) < 1.5 ? 0 : skew;
}

// Set by auth.js: where the session's CSRF token comes from, and what a 401 means
// (the session ended: show the login screen).
let authHooks = { csrf: () => null, unauthorized: () => {} };

/** Let the sign-in module supply the CSRF token and hear about 401 answers. */
export function setAuthHooks(hooks) {
  authHooks = { ...authHooks, ...hooks };
}

/** GET a JSON document; throws ApiError with the server's error object. */
export async function getJSON(url, { signal } = {}) {
  return request("GET", url, undefined, signal);
}

/** Send `body` as JSON with `method` (POST, PUT, PATCH, DELETE) and the session's CSRF token. */
export async function sendJSON(method, url, body, { signal } = {}) {
  return request(method, url, body, signal);
}

async function request(method, url, payload, signal) {
  const sentAt = Date.now();
  // X-Roost-Client labels the page's requests in the server's logs (it grants nothing).
  const headers = { Accept: "application/json", "X-Roost-Client": "page" };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  const csrf = method === "GET" ? null : authHooks.csrf();
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const init = { method, signal, headers, credentials: "same-origin" };
  if (payload !== undefined) init.body = JSON.stringify(payload);
  const response = await fetch(url, init);
  learnSkew(response, sentAt);
  if (response.status === 401 && !url.startsWith("/api/login") && !url.startsWith("/api/me")) {
    authHooks.unauthorized();
  }
  if (response.status === 204) return null; // No Content: a DELETE that worked
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page, or a connection cut short.
  }
  if (!response.ok || body === null) {
    throw new ApiError(response.status, (body && body.error) || { message: `HTTP ${response.status}` });
  }
  return body;
}

// roost-live.js: a dependency-free client for roost's live push (an ES module).
//
//   import { connect } from "/static/roost-live.js";
//   const live = connect({ onState: (state, info) => render(state) });
//   await live.call("switch", { plug: "tv", on: false });
//
// It keeps the current state tree from the server's snapshot and change
// messages, resumes after a dropped connection with the last seq it holds (so
// it gets only what it missed), reconnects with exponential backoff and jitter,
// and falls back to Server-Sent Events where WebSockets are blocked. The
// protocol and this API are described in docs/live.md.

const DEFAULTS = {
  base: null, // server URL, e.g. "http://pi.local:8080"; default: the page's origin
  paths: null, // path patterns to subscribe to; null for everything
  transport: "auto", // "auto" (WebSocket, SSE if that never opens), "websocket" or "sse"
  onState: null, // (state, info) after every snapshot or change batch
  onStatus: null, // (status, detail) on "connecting", "open", "waiting", "closed"
  initialBackoffMs: 500,
  maxBackoffMs: 30000,
  pingIntervalMs: 25000, // WebSocket: ping when the server was silent this long...
  pongTimeoutMs: 10000, // ...and reconnect if it stays silent this much longer
  callTimeoutMs: 30000,
  client: null, // a label for the server's logs and command listeners; roost's own page says "page"
};

const STABLE_MS = 5000;

/** An error from the server ({code, message, ...details}) or from the connection ("disconnected"). */
export class LiveError extends Error {
  constructor(error) {
    super(error.message);
    this.name = "LiveError";
    this.code = error.code;
    this.details = error;
  }
}

/** Create a client and start connecting. */
export function connect(options = {}) {
  const client = new LiveClient(options);
  client.start();
  return client;
}

export class LiveClient {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.state = {}; // the current tree; replaced on snapshots, updated in place on changes
    this.seq = -1; // the seq the state is complete up to; -1 before the first snapshot
    this.boot = null; // the server run the seq belongs to
    this.status = "closed";
    this.transport = null; // "websocket" or "sse" while connected
    this._paths = this.options.paths;
    // Snapshots still to come on this connection (its first, one per subscribe): until
    // then the state held is of other patterns than those asked for, and not resumable.
    this._snapshotsDue = 0;
    this._socket = null;
    this._attempt = 0;
    this._wsOpened = false;
    this._wsFailures = 0;
    this._retryTimer = null;
    this._watchdog = null;
    this._lastReceived = 0;
    this._openedAt = 0;
    this._nextId = 1;
    this._calls = new Map();
    this._stopped = true;
    this._wake = () => {
      if (this.status === "waiting") this._reconnectNow();
    };
  }

  /** Connect (again); safe to call when already connected. */
  start() {
    if (!this._stopped) return;
    this._stopped = false;
    if (typeof window !== "undefined") {
      window.addEventListener("online", this._wake);
      document.addEventListener("visibilitychange", this._wake);
    }
    this._open();
  }

  /** Disconnect and stop reconnecting; pending calls fail with code "disconnected". */
  close() {
    this._stopped = true;
    clearTimeout(this._retryTimer);
    if (typeof window !== "undefined") {
      window.removeEventListener("online", this._wake);
      document.removeEventListener("visibilitychange", this._wake);
    }
    this._drop();
    this._setStatus("closed");
  }

  /** Replace the subscription (patterns such as "basement/*", "plugs/**"; null for everything). */
  subscribe(paths) {
    this._paths = paths && paths.length ? [...paths] : null;
    // Other patterns, other leaves: the next snapshot replaces the tree.
    if (this.transport === "websocket") {
      this._snapshotsDue++;
      this._send({ type: "subscribe", id: this._nextId++, paths: this._paths || ["**"] });
    } else {
      this.seq = -1;
      this._reconnectNow();
    }
  }

  /** Call a command; resolves with its result, rejects with a LiveError carrying the server's code. */
  call(command, args = {}, { timeoutMs = this.options.callTimeoutMs } = {}) {
    if (this.transport !== "websocket") return this._callOverHttp(command, args);
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._calls.delete(id);
        reject(new LiveError({ code: "timeout", message: `no reply to ${command} within ${timeoutMs} ms` }));
      }, timeoutMs);
      this._calls.set(id, { resolve, reject, timer });
      this._send({ type: "call", id, command, args });
    });
  }

  // -- connecting -------------------------------------------------------------

  _url(route) {
    const base = new URL(this.options.base || window.location.origin);
    const url = new URL(route, base);
    if (this._snapshotsDue === 0) {
      url.searchParams.set("since", String(this.seq));
      url.searchParams.set("boot", this.boot);
    }
    for (const pattern of this._paths || []) url.searchParams.append("paths", pattern);
    // WebSocket and EventSource cannot set headers: the label goes in the query.
    if (this.options.client) url.searchParams.set("client", this.options.client);
    return url;
  }

  _useSse() {
    const t = this.options.transport;
    return t === "sse" || (t === "auto" && (typeof WebSocket === "undefined" || (!this._wsOpened && this._wsFailures >= 2)));
  }

  _open() {
    this._setStatus("connecting");
    // Resume with the seq held (the server sends what was missed), or ask for a snapshot.
    this._snapshotsDue = this.seq >= 0 && this.boot && this._snapshotsDue === 0 ? 0 : 1;
    if (this._useSse()) this._openSse();
    else this._openWebSocket();
  }

  _openWebSocket() {
    const url = this._url("/api/live");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this._socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = this._wsOpened = true;
      this._wsFailures = 0;
      this._openedAt = Date.now();
      this.transport = "websocket";
      this._lastReceived = Date.now();
      this._startWatchdog();
      this._setStatus("open");
    };
    ws.onmessage = (event) => this._receive(event.data);
    ws.onclose = (event) => {
      if (this._socket !== ws) return;
      if (!opened) this._wsFailures++;
      this._lost(`WebSocket closed (${event.code}${event.reason ? " " + event.reason : ""})`);
    };
  }

  _openSse() {
    const es = new EventSource(this._url("/api/events"));
    this._socket = es;
    es.onopen = () => {
      this._openedAt = Date.now();
      this.transport = "sse";
      this._setStatus("open");
    };
    es.onmessage = (event) => this._receive(event.data);
    es.onerror = () => {
      // EventSource would reconnect by itself, with its own Last-Event-ID; we
      // reconnect ourselves so that backoff, jitter and subscriptions stay ours.
      if (this._socket === es) this._lost("event stream failed");
    };
  }

  _lost(reason) {
    // A connection that lasted a while was a success: start the backoff over.
    // (Only one that opened: _openedAt is 0 while an attempt has not.)
    const stable = this._openedAt > 0 && Date.now() - this._openedAt >= STABLE_MS;
    this._drop();
    if (this._stopped) return;
    if (stable) this._attempt = 0;
    const cap = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** this._attempt);
    // Equal jitter: half the cap for sure, the rest at random, so that clients of a
    // restarted server do not all come back in the same instant.
    const delay = cap / 2 + Math.random() * (cap / 2);
    this._attempt++;
    this._setStatus("waiting", { reason, retryInMs: Math.round(delay) });
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  _reconnectNow() {
    if (this._stopped) return;
    clearTimeout(this._retryTimer);
    this._drop();
    this._open();
  }

  _drop() {
    const socket = this._socket;
    this._socket = null;
    this.transport = null;
    this._openedAt = 0;
    clearInterval(this._watchdog);
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close();
    }
    for (const { reject, timer } of this._calls.values()) {
      clearTimeout(timer);
      reject(new LiveError({ code: "disconnected", message: "the connection was lost before the reply" }));
    }
    this._calls.clear();
  }

  _startWatchdog() {
    const { pingIntervalMs, pongTimeoutMs } = this.options;
    clearInterval(this._watchdog);
    this._watchdog = setInterval(() => {
      const silentMs = Date.now() - this._lastReceived;
      if (silentMs >= pingIntervalMs + pongTimeoutMs) this._lost("no reply to ping");
      else if (silentMs >= pingIntervalMs) this._send({ type: "ping", id: this._nextId++ });
    }, Math.max(250, Math.min(pingIntervalMs, pongTimeoutMs) / 2));
  }

  _send(message) {
    if (this._socket && this.transport === "websocket") this._socket.send(JSON.stringify(message));
  }

  async _callOverHttp(command, args) {
    const base = new URL(this.options.base || window.location.origin);
    const response = await fetch(new URL(`/api/commands/${encodeURIComponent(command)}`, base), {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(this.options.client ? { "X-Roost-Client": this.options.client } : {}),
      },
      body: JSON.stringify(args),
    });
    const body = await response.json();
    if (!response.ok) throw new LiveError(body.error);
    return body.result;
  }

  // -- messages ---------------------------------------------------------------

  _receive(data) {
    this._lastReceived = Date.now();
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    switch (msg.type) {
      case "snapshot":
        this._attempt = 0;
        this.state = msg.state;
        this.seq = msg.seq;
        this.boot = msg.boot;
        if (this._snapshotsDue > 0) this._snapshotsDue--;
        this._notify({ seq: msg.seq, snapshot: true, changes: null, removed: [] });
        break;
      case "change":
        this._attempt = 0;
        if (msg.since !== this.seq) {
          // A batch must start where the state ends; anything else means a gap or a
          // repeat, and only a fresh snapshot can put that right.
          this.seq = -1;
          this._reconnectNow();
          return;
        }
        for (const path of msg.removed || []) removePath(this.state, path);
        for (const [path, value] of Object.entries(msg.changes)) setPath(this.state, path, value);
        this.seq = msg.seq;
        this._notify({ seq: msg.seq, snapshot: false, changes: msg.changes, removed: msg.removed || [] });
        break;
      case "result":
      case "error": {
        const call = this._calls.get(msg.id);
        if (!call) return;
        this._calls.delete(msg.id);
        clearTimeout(call.timer);
        if (msg.type === "result") call.resolve(msg.result);
        else call.reject(new LiveError(msg.error));
        break;
      }
      default:
        break; // pong, or a type from a newer server
    }
  }

  _notify(info) {
    if (this.options.onState) this.options.onState(this.state, info);
  }

  _setStatus(status, detail = {}) {
    this.status = status;
    if (this.options.onStatus) this.options.onStatus(status, detail);
  }
}

// -- the tree, as the server's core.tree.apply_diff keeps it ------------------

function isBranch(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Keys are the tree's, any string: "__proto__" or "constructor" too. Only own
// properties are children, and "__proto__" is defined, not assigned (an
// assignment would replace the object's prototype instead).
function child(node, key) {
  return Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
}

function put(node, key, value) {
  if (key === "__proto__") Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  else node[key] = value;
}

/** Set the leaf at `path`, creating branches (and replacing leaves that stand in the way). */
export function setPath(root, path, value) {
  const keys = path.split("/");
  let node = root;
  for (const key of keys.slice(0, -1)) {
    if (!isBranch(child(node, key))) put(node, key, {});
    node = node[key];
  }
  put(node, keys[keys.length - 1], value);
}

/** Remove the node at `path` and every branch left empty by that. */
export function removePath(root, path) {
  const keys = path.split("/");
  const trail = [];
  let node = root;
  for (const key of keys.slice(0, -1)) {
    if (!isBranch(child(node, key))) return;
    trail.push([node, key]);
    node = node[key];
  }
  delete node[keys[keys.length - 1]];
  for (let i = trail.length - 1; i >= 0; i--) {
    const [parent, key] = trail[i];
    if (Object.keys(parent[key]).length) break;
    delete parent[key];
  }
}

// Small helpers the page's forms share: a field's inline error, numbers as typed.

/** Show `message` under a field ({input, error}) or clear it, and mark its input for assistive technology. */
export function markField(f, message) {
  f.error.textContent = message || "";
  f.error.hidden = !message;
  if (message) f.input.setAttribute("aria-invalid", "true");
  else f.input.removeAttribute("aria-invalid");
}

/** A number as typed, or the text itself, so that the server's 422 says what is wrong with it. */
export function numberOrText(text) {
  const t = text.trim();
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

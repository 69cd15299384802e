// Path metadata (labels, units, kinds, switches) and when each leaf was last written.
//
// /api/meta is the only place that knows `last_seen`: a sensor that keeps
// writing the same value sends no change message but refreshes it. So the page
// fetches it at start, again every minute, and soon after a path it has no
// metadata for shows up.

import { getJSON, serverNow } from "./api.js";

const REFRESH_MS = 60_000;
const SOON_MS = 500;

export class MetaStore {
  constructor(onUpdate) {
    this.paths = new Map(); // path -> PathMeta fields
    this.lastSeen = new Map(); // path -> epoch seconds, server clock
    this.loaded = false;
    this._onUpdate = onUpdate;
    this._timer = null;
    this._soon = null;
  }

  /** Fetch now and then every minute; resolves after the first fetch (or its failure). */
  async start() {
    await this.refresh();
    this._timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const body = await getJSON("/api/meta");
      const paths = new Map();
      for (const [path, entry] of Object.entries(body.paths)) {
        const { last_seen: seen, ...meta } = entry;
        paths.set(path, meta);
        // A change message may have brought a newer time than this reply, which was built earlier.
        if (typeof seen === "number" && !(this.lastSeen.get(path) > seen)) this.lastSeen.set(path, seen);
      }
      this.paths = paths;
      this.loaded = true;
      this._onUpdate();
    } catch {
      // Offline or restarting: the live connection shows that; keep what we have.
    }
  }

  /** Refresh shortly, once, however often this is called in between. */
  refreshSoon() {
    if (this._soon) return;
    this._soon = setTimeout(() => {
      this._soon = null;
      this.refresh();
    }, SOON_MS);
  }

  get(path) {
    return this.paths.get(path) || {};
  }

  has(path) {
    return this.paths.has(path);
  }

  /** A change message for `path` arrived: it was written just now. */
  touch(path) {
    this.lastSeen.set(path, serverNow());
  }
}

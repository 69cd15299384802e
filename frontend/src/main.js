// The page's entry: connects the live client, and switches between the views
// (Home, Charts, Commands, Health, and whatever is registered below) by the
// URL's hash, so that the back button, bookmarks and a reload all land where
// the person was. `#charts/living_room/temperature` opens a view with a
// parameter (here: the history of that path).

import { connect } from "roost-live";
import "./styles.css";
import "./schedules.css";
import "./found-plugs.css";
import "./alerts.css";
import "./devices.css";
import { getJSON } from "./api.js";
import { authGate, recheck } from "./auth.js";
import { AlertBanner } from "./banner.js";
import { CommandsView } from "./commands.js";
import { Dashboard } from "./dashboard.js";
import { FailingNotice } from "./failing.js";
import { HealthView } from "./health.js";
import { MetaStore } from "./meta.js";
import { h } from "./dom.js";

const $ = (selector) => document.querySelector(selector);

// -- the view registry ------------------------------------------------------------
//
// A view is an object with show(param) and hide(), and optionally setOnline(online)
// (switches and forms are disabled while the live connection is down). `create`
// runs when the view is first opened and may be async (a lazily imported module),
// so a view that is not opened costs nothing. The tab order is the order of
// registration. To add a view: defineView("devices", "Devices", async (root, ctx) => ...).
// A view defined with {under: "alerts"} has no tab of its own: it is a section of
// that view's tab, reached by a row of links shown above the views of the group.

const registry = new Map(); // name -> {name, label, create, root, view, loading, under}
const sections = new Map(); // a tab's view name -> its <nav> of sections

/** Register a view: its hash name, its tab's label and a factory (root element, context) -> view. */
export function defineView(name, label, create, { under = null } = {}) {
  const root = h("section", { id: `view-${name}`, class: "view", "aria-label": label, dataset: { view: name }, hidden: true });
  const link = h("a", { href: `#${name}`, dataset: { view: name } }, label);
  if (under) {
    let nav = sections.get(under);
    if (!nav) {
      const parent = registry.get(under);
      nav = h("nav", { class: "subtabs", "aria-label": `${parent.label} sections`, hidden: true });
      nav.append(h("a", { href: `#${under}`, dataset: { view: under } }, parent.label));
      parent.root.before(nav);
      sections.set(under, nav);
    }
    nav.append(link);
  } else {
    $(".tabs").append(link);
  }
  $("#main").append(root);
  registry.set(name, { name, label, create, root, view: null, loading: null, under });
}

/** The view with this name, created if it has not been yet. */
async function viewOf(name) {
  const entry = registry.get(name);
  if (entry.view) return entry.view;
  entry.loading ||= Promise.resolve(entry.create(entry.root, context)).then((view) => {
    entry.view = view;
    view.setOnline?.(online);
    return view;
  });
  return entry.loading;
}

// -- shared state -------------------------------------------------------------------

let bootSeen = null;
let pendingState = null;
let metaTried = false;
let online = false;
let live = null; // assigned below; the status callback runs before connect() returns
let commandList = null; // a promise of /api/commands' list, until the next server run

/** The node's commands (GET /api/commands), fetched once per server run. */
function loadCommands() {
  commandList ||= getJSON("/api/commands").then(
    (body) => body.commands,
    (error) => {
      commandList = null;
      throw error;
    },
  );
  return commandList;
}

// Signed in, or an open node: only then is there anything to connect to.
await authGate();

const meta = new MetaStore(() => {
  dashboard.metaChanged();
  registry.get("charts").view?.refreshPicker();
});
const call = (command, args) => live.call(command, args);
// Firing alerts, above every view (from the state tree: no polling).
const banner = new AlertBanner($(".tabs"));
const context = { meta, call, loadCommands, leaves: () => dashboard.leaves };

const cardsRoot = h("div", { class: "cards", id: "cards" }, h("p", { class: "empty" }, "Waiting for the first values…"));
const dashboard = new Dashboard(cardsRoot, { meta, call });

// The dashboard is built at once, whichever view opens first: it holds the leaves the others use.
defineView("home", "Home", () => ({
  show: () => failing.show(),
  hide: () => failing.hide(),
  setOnline: (on) => dashboard.setOnline(on),
}));
registry.get("home").root.append(cardsRoot);
// Failing workers are named on Home, above the cards (polled only while Home is shown).
const failing = new FailingNotice(cardsRoot);
defineView("devices", "Devices", async (root, ctx) => {
  const { DevicesView } = await import("./devices.js");
  return new DevicesView(root, ctx);
});
defineView("schedules", "Schedules", async (root) => {
  const { SchedulesView } = await import("./schedules.js");
  return new SchedulesView(root);
});
defineView("charts", "Charts", async (root, ctx) => {
  root.textContent = "Loading charts…";
  // Charts are grouped by unit: wait for the metadata (or its failure) that says which.
  const [{ ChartsView }] = await Promise.all([import("./charts.js"), metaTriedOnce]);
  return new ChartsView(root, ctx);
});
defineView("commands", "Commands", (root, ctx) => new CommandsView(root, ctx));
defineView("health", "Health", (root) => new HealthView(root));
defineView("alerts", "Alerts", async (root, ctx) => {
  const { AlertsView } = await import("./alerts.js");
  return new AlertsView(root, ctx);
});
defineView(
  "rules",
  "Rules",
  async (root, ctx) => {
    const { RulesView } = await import("./alert-rules.js");
    return new RulesView(root, ctx);
  },
  { under: "alerts" },
);
defineView(
  "channels",
  "Channels",
  async (root) => {
    const { ChannelsView } = await import("./alert-channels.js");
    return new ChannelsView(root);
  },
  { under: "alerts" },
);
banner.setTab($('.tabs a[data-view="alerts"]'));

function useCommands() {
  loadCommands().then(
    (commands) => dashboard.setCommands(commands),
    () => {}, // offline or restarting: the next snapshot tries again
  );
}

live = connect({
  client: "page", // labels our calls for the server's listeners (a label only)
  onState(state, info) {
    banner.update(state.alerts);
    const alerts = registry.get("alerts").view;
    if (alerts && (info.snapshot || Object.keys(info.changes || {}).some((path) => path.startsWith("alerts/")))) {
      alerts.changed();
    }
    if (info.snapshot && live.boot !== bootSeen) {
      // A new server run (or the first): its paths and commands may differ.
      if (bootSeen !== null) {
        meta.refreshSoon();
        commandList = null;
        const commands = registry.get("commands").view;
        if (commands) commands.loaded = false;
        if (currentView().name === "commands") commands?.show();
      }
      bootSeen = live.boot;
      useCommands();
    }
    // Labels and units come from /api/meta; a first render without them would flicker.
    if (!metaTried) {
      pendingState = [state, info];
      return;
    }
    dashboard.render(state, info);
    const devices = registry.get("devices").view;
    if (devices && !info.snapshot && Object.keys(info.changes || {}).some((path) => path.startsWith("devices/"))) {
      devices.changed(info.changes);
    }
    const charts = registry.get("charts").view;
    if (charts) {
      charts.refreshPicker();
      if (!info.snapshot) charts.live(info.changes);
    }
  },
  onStatus: showStatus,
});

const metaTriedOnce = meta.start().then(() => {
  metaTried = true;
  if (pendingState) dashboard.render(...pendingState);
  pendingState = null;
});

getJSON("/healthz")
  .then((health) => {
    $("#node-name").textContent = health.node;
    document.title = `${health.node} · roost`;
  })
  .catch(() => {});

// -- the connection indicator, and what is disabled while it is down ------------------

let countdown = null;

function showStatus(status, detail = {}) {
  const el = $("#conn");
  const text = el.querySelector(".conn-text");
  clearInterval(countdown);
  el.dataset.status = status;
  document.body.dataset.connection = status;
  el.title = detail.reason || (status === "open" ? `connected over ${live?.transport === "sse" ? "Server-Sent Events" : "WebSocket"}` : "");
  if (status === "open") text.textContent = "Live";
  else if (status === "connecting") text.textContent = "Connecting…";
  else if (status === "closed") text.textContent = "Disconnected";
  else if (status === "waiting") {
    recheck(); // a stream closed because the session ended shows the login screen
    const until = Date.now() + (detail.retryInMs || 0);
    const tick = () => {
      const s = Math.ceil((until - Date.now()) / 1000);
      text.textContent = s > 0 ? `Offline · retry in ${s} s` : "Offline · retrying";
    };
    tick();
    countdown = setInterval(tick, 1000);
  }
  setOnline(status === "open");
}

function setOnline(now) {
  // "Connecting…" at the very start is not offline: say so only once it was lost.
  const lost = !now && (online || document.body.dataset.wasOnline === "true");
  if (now) document.body.dataset.wasOnline = "true";
  online = now;
  $("#offline-note").hidden = !lost;
  for (const entry of registry.values()) entry.view?.setOnline?.(now);
}

// -- views ------------------------------------------------------------------------

/** The view and its parameter named by the URL's hash: "#charts/a/b" -> charts, "a/b". */
function currentView() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const slash = hash.indexOf("/");
  const name = slash < 0 ? hash : hash.slice(0, slash);
  const param = slash < 0 ? "" : hash.slice(slash + 1);
  return registry.has(name) ? { name, param } : { name: "home", param: "" };
}

async function showView() {
  const { name, param } = currentView();
  for (const entry of registry.values()) {
    entry.root.hidden = entry.name !== name;
    entry.view?.[entry.name === name ? "show" : "hide"]?.(param);
  }
  // A section's tab is its group's: the tab says where, the row of sections says which.
  const tabName = registry.get(name).under || name;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === tabName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const [group, nav] of sections) {
    nav.hidden = group !== tabName;
    for (const link of nav.querySelectorAll("a")) {
      if (link.dataset.view === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
  const entry = registry.get(name);
  if (!entry.view) {
    const view = await viewOf(name);
    if (currentView().name === name) view.show(currentView().param);
  }
}

window.addEventListener("hashchange", showView);
// The skip link moves the focus, not the view (its "#main" is no view's name).
$(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  $("#main").focus();
});
showView();

// For the browser tests and the benchmark: the live client and the views.
window.roost = {
  live,
  meta,
  dashboard,
  get charts() {
    return registry.get("charts").view;
  },
  get schedules() {
    return registry.get("schedules").view;
  },
  get alerts() {
    return registry.get("alerts").view;
  },
};

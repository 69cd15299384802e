// The page's entry: connects the live client, and switches between the four
// views (Home, Charts, Commands, Health) by the URL's hash, so that the back
// button, bookmarks and a reload all land where the person was.

import { connect } from "roost-live";
import "./styles.css";
import { getJSON } from "./api.js";
import { CommandsView } from "./commands.js";
import { Dashboard } from "./dashboard.js";
import { FailingNotice } from "./failing.js";
import { HealthView } from "./health.js";
import { MetaStore } from "./meta.js";

const $ = (selector) => document.querySelector(selector);
const VIEWS = ["home", "charts", "commands", "health"];

let charts = null; // the ChartsView, once its module has loaded
let chartsModule = null;
let bootSeen = null;
let pendingState = null;
let metaTried = false;
let live = null; // assigned below; the status callback runs before connect() returns

const meta = new MetaStore(() => {
  dashboard.metaChanged();
  charts?.refreshPicker();
});
const call = (command, args) => live.call(command, args);
const dashboard = new Dashboard($("#cards"), { meta, call });
const commands = new CommandsView($("#view-commands"), { call });
const health = new HealthView($("#view-health"));
const failing = new FailingNotice($("#cards"));

live = connect({
  onState(state, info) {
    if (info.snapshot && live.boot !== bootSeen) {
      // A new server run (or the first): its paths and commands may differ.
      if (bootSeen !== null) {
        meta.refreshSoon();
        commands.loaded = false;
        if (currentView() === "commands") commands.show();
      }
      bootSeen = live.boot;
    }
    // Labels and units come from /api/meta; a first render without them would flicker.
    if (!metaTried) {
      pendingState = [state, info];
      return;
    }
    dashboard.render(state, info);
    if (charts) {
      charts.refreshPicker();
      if (!info.snapshot) charts.live(info.changes);
    }
  },
  onStatus: showStatus,
});

meta.start().then(() => {
  metaTried = true;
  if (pendingState) dashboard.render(...pendingState);
  pendingState = null;
});

getJSON("/healthz")
  .then((h) => {
    $("#node-name").textContent = h.node;
    document.title = `${h.node} · roost`;
  })
  .catch(() => {});

// -- the connection indicator ---------------------------------------------------

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
    const until = Date.now() + (detail.retryInMs || 0);
    const tick = () => {
      const s = Math.ceil((until - Date.now()) / 1000);
      text.textContent = s > 0 ? `Offline · retry in ${s} s` : "Offline · retrying";
    };
    tick();
    countdown = setInterval(tick, 1000);
  }
}

// -- views ------------------------------------------------------------------------

function currentView() {
  const name = location.hash.replace(/^#\/?/, "");
  return VIEWS.includes(name) ? name : "home";
}

async function showView() {
  const name = currentView();
  for (const section of document.querySelectorAll(".view")) section.hidden = section.dataset.view !== name;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (name === "health") health.show();
  else health.hide();
  if (name === "home") failing.show();
  else failing.hide();
  if (name === "commands") commands.show();
  if (name === "charts") {
    if (!chartsModule) {
      $("#view-charts").textContent = "Loading charts…";
      chartsModule = await import("./charts.js");
      charts = new chartsModule.ChartsView($("#view-charts"), { meta, leaves: () => dashboard.leaves });
    }
    if (currentView() === "charts") charts.show();
  } else {
    charts?.hide();
  }
}

window.addEventListener("hashchange", showView);
showView();

// For the browser tests and the benchmark: the live client and the views.
window.roost = { live, meta, dashboard, get charts() { return charts; } };

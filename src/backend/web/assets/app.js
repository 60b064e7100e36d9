// The built-in dashboard's page: hash-routed views over `/api/*`, refreshed
// whenever the live store sees new data. Native ES modules, no framework and
// no build step. The page's Content-Security-Policy forbids inline script,
// so all DOM is built by these modules, and all text goes in as text (never
// innerHTML): see dom.js.

import { api } from "./api.js";
import { LiveStore } from "./live.js";
import { showControls } from "./controls.js";
import { showLiveStatus } from "./live-status.js";
import { createRouter } from "./router.js";
import { FALLBACKS, HOME, ROUTES } from "./routes.js";

/** @type {HTMLMetaElement | null} */
const appNameMeta = document.querySelector('meta[name="application-name"]');
const appName = appNameMeta?.content || "cargo-otel";
/** @type {NodeListOf<HTMLAnchorElement>} */
const tabs = document.querySelectorAll(".tabs a[data-view]");
const live = new LiveStore(api.summary);
showLiveStatus(document.getElementById("live"), live);
showControls(document.querySelector(".topbar"), live);

const router = createRouter({
  root: document.getElementById("view"),
  routes: ROUTES,
  home: HOME,
  fallbacks: FALLBACKS,
  live,
  appName,
  onRoute: (route) => {
    for (const tab of tabs) {
      tab.classList.toggle("active", tab.dataset.view === route?.tab);
    }
  },
});

window.addEventListener("hashchange", router.route);
// The first summary before the first view, so data that arrives while the
// view loads counts as a change.
await live.start();
router.route();

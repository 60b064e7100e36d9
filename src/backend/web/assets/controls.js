// The top bar's controls: pause and resume the display of new data, and
// clear what the backend holds (all of it, or the service the current view
// filters on). `?paused` in the page's address starts it paused, so a paused
// page is a link.

import { api } from "./api.js";
import { h } from "./dom.js";

/**
 * @param {HTMLElement} bar where the buttons go
 * @param {import("./live.js").LiveStore} live
 */
export function showControls(bar, live) {
  const pause = h("button", { type: "button", class: "ghost", dataset: { control: "pause" }, onclick: () => setPaused(!live.paused) });
  const clear = h("button", { type: "button", class: "ghost", dataset: { control: "clear" }, onclick: () => clearHeld(live) });
  const setPaused = (paused) => {
    if (paused) live.pause();
    else live.resume();
    pause.textContent = paused ? "Resume" : "Pause";
    pause.title = paused ? "Show what arrived while paused, and keep showing new data" : "Keep the views as they are while data arrives";
    const url = new URL(location.href);
    if (paused) url.searchParams.set("paused", "");
    else url.searchParams.delete("paused");
    history.replaceState(null, "", url);
  };
  setPaused(new URLSearchParams(location.search).has("paused"));
  clear.textContent = "Clear";
  clear.title = "Take out what the dashboard holds: the selected service's, or everything";
  bar.append(h("div", { class: "controls-bar" }, pause, clear));
}

/** The service the current view filters on, if any. */
function viewService() {
  const at = location.hash.indexOf("?");
  return at < 0 ? "" : new URLSearchParams(location.hash.slice(at + 1)).get("service") || "";
}

async function clearHeld(live) {
  const service = viewService();
  const what = service ? `everything ${service} sent` : "all traces, logs and metrics";
  if (!confirm(`Clear ${what} from the dashboard? This cannot be undone.`)) return;
  try {
    await api.clear(service);
  } catch (error) {
    alert(`Could not clear: ${error.message}`);
    return;
  }
  const wasPaused = live.paused;
  if (wasPaused) live.resume();
  await live.refreshNow();
  if (wasPaused) live.pause();
}

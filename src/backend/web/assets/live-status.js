// The top bar's live indicator: a dot (green while the backend answers) and
// what is held, with the evictions and caps in its tooltip.

import { appendAll, h } from "./dom.js";
import { fmtPlain, plural } from "./format.js";

const KINDS = [
  ["traces", "trace", "traces"],
  ["spans", "span", "spans"],
  ["logs", "log", "logs"],
  ["metric_points", "point", "metric points"],
];

/**
 * Keeps `indicator` (with its `#live-text` child) in step with `live`.
 * @param {HTMLElement} indicator
 * @param {import("./live.js").LiveStore} live
 */
export function showLiveStatus(indicator, live) {
  const text = indicator.querySelector("#live-text");
  live.subscribe(({ summary, connected }) => {
    indicator.classList.toggle("ok", connected);
    indicator.classList.toggle("down", !connected);
    indicator.classList.toggle("paused", live.paused);
    if (connected) showCounts(indicator, text, summary, live.paused);
    else showDisconnected(indicator, text);
  });
}

function showDisconnected(indicator, text) {
  text.textContent = "disconnected";
  indicator.title = "The built-in dashboard's server does not answer; retrying every second.";
}

/**
 * @param {HTMLElement} indicator
 * @param {Element} text
 * @param {import("./model.js").Summary} summary
 */
function showCounts(indicator, text, { held, evicted, caps }, paused) {
  const heldText = KINDS.map(([key, noun]) => plural(held[key] || 0, noun)).join(" · ");
  const dropped = KINDS.reduce((sum, [key]) => sum + (evicted[key] || 0), 0);
  text.replaceChildren();
  appendAll(text, [
    paused ? "paused · " : "live · ",
    heldText,
    dropped ? h("span", { class: "evicted" }, ` · ${fmtPlain(dropped)} evicted`) : null,
  ]);
  const line = ([key, , label]) =>
    `${label}: ${fmtPlain(held[key] || 0)} held of ${fmtPlain(caps[key] || 0)}, ${fmtPlain(evicted[key] || 0)} evicted`;
  indicator.title = ["Held in memory; the oldest are evicted at the cap.", ...KINDS.map(line)].join("\n");
}

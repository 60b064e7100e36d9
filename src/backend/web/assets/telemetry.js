// Small pieces every view draws the same way: a service's colour and badge,
// a status pill, attribute chips.

import { h } from "./dom.js";

/** A stable colour per service, so one service looks the same everywhere. */
export function serviceColor(name) {
  let hash = 0;
  for (const ch of name || "") hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 62% 52%)`;
}

export function serviceBadge(name) {
  return h("span", { class: "svc", style: { "--svc": serviceColor(name) } }, name || "unknown");
}

/**
 * The `dash --watch` run a record came from, linking to that run's `list`.
 * @param {number | null | undefined} run
 * @param {string} list `traces` or `logs`
 */
export function runBadge(run, list) {
  if (run == null) return null;
  const href = `#/${list}?run=${run}`;
  // Inside a clickable row: the badge's own link, not the row's.
  const onclick = (event) => event.stopPropagation();
  return h("a", { class: "run-badge", href, onclick, title: `Only run ${run}`, dataset: { run: String(run) } }, `run ${run}`);
}

/** Says the list is one run's, with a way back to every run. */
export function runChip(run, list) {
  if (!run) return null;
  return h("span", { class: "chip", dataset: { filter: "run" } }, `run ${run}`, h("a", { href: `#/${list}`, title: "Show every run" }, "×"));
}

/** @param {import("./model.js").StatusCode} status */
export function statusPill(status) {
  const text = { error: "Error", ok: "OK", unset: "Unset" }[status] || status;
  return h("span", { class: `status ${status}` }, text);
}

/**
 * The first `max` attributes as `key=value` chips, then `+N` for the rest.
 * @param {import("./model.js").Attribute[]} attributes
 */
export function attrChips(attributes, max = 8) {
  if (!attributes?.length) return null;
  const shown = attributes.slice(0, max).map((a) =>
    h("span", { class: "attr", title: `${a.key}=${a.value}` }, h("b", {}, a.key), "=", a.value),
  );
  if (attributes.length > max) shown.push(h("span", { class: "attr" }, `+${attributes.length - max}`));
  return h("div", { class: "attrs" }, shown);
}

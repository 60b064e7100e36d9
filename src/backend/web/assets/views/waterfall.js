// A trace's spans as a waterfall: one row per span in tree order, its bar
// placed on a shared time axis, its events as dots and its log records as
// ticks on the bar. A span with children folds them away; a search marks
// the spans it finds and dims the rest.

import { gridLines, tickLabels } from "../charts/axis.js";
import { evenTicks, linearScale } from "../charts/scale.js";
import { h } from "../dom.js";
import { fmtDuration, nsBig } from "../format.js";
import { serviceBadge, serviceColor } from "../telemetry.js";

/** @typedef {import("../model.js").SpanDetail} SpanDetail */
/** @typedef {{ span: SpanDetail, depth: number }} Row */

/**
 * Spans in tree order (parents before children, siblings by start), with
 * their depth. Orphans (parent not arrived) are roots; spans caught in a
 * parent cycle come last.
 * @param {SpanDetail[]} spans
 * @returns {Row[]}
 */
export function treeOrder(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    const parent = span.parent_span_id;
    if (parent && parent !== span.span_id && byId.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(span);
    } else {
      roots.push(span);
    }
  }
  const byStart = (a, b) => {
    const [x, y] = [nsBig(a.start_unix_nano), nsBig(b.start_unix_nano)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const rows = [];
  const seen = new Set();
  const visit = (root) => {
    const stack = [[root, 0]];
    while (stack.length) {
      const [span, depth] = stack.pop();
      if (seen.has(span.span_id)) continue;
      seen.add(span.span_id);
      rows.push({ span, depth });
      const kids = (children.get(span.span_id) || []).slice().sort(byStart).reverse();
      for (const kid of kids) stack.push([kid, depth + 1]);
    }
  };
  roots.sort(byStart).forEach(visit);
  spans.forEach(visit);
  return rows;
}

/**
 * The rows left when the spans in `collapsed` fold their descendants away,
 * each with how many it hides.
 * @param {Row[]} rows in tree order
 * @param {Set<string>} collapsed
 * @returns {(Row & { hidden: number, parent: boolean })[]}
 */
export function visibleRows(rows, collapsed) {
  const shown = [];
  for (let i = 0; i < rows.length; i += 1) {
    const { depth, span } = rows[i];
    let end = i + 1;
    while (end < rows.length && rows[end].depth > depth) end += 1;
    const folded = collapsed.has(span.span_id);
    shown.push({ ...rows[i], hidden: folded ? end - i - 1 : 0, parent: end > i + 1 });
    if (folded) i = end - 1;
  }
  return shown;
}

/** Whether the span's name, service or an attribute value contains `needle` (lowercase). */
export function spanMatches(span, needle) {
  const has = (text) => text.toLowerCase().includes(needle);
  return has(span.name) || has(span.service) || span.attributes.some((a) => has(a.value) || has(a.key));
}

/**
 * @typedef {object} WaterfallOptions
 * @property {string | null} selected the selected span's id
 * @property {(spanId: string | null) => void} select
 * @property {(spanId: string) => void} toggle folds or unfolds a span's children
 * @property {string} needle the search, lowercase ("" for none)
 * @property {Map<string, import("../model.js").LogEntry[]>} logs by span id
 */

/**
 * @param {ReturnType<typeof visibleRows>} rows
 * @param {bigint} start the trace's start (Unix ns)
 * @param {number} total the trace's duration (ns, at least 1)
 * @param {WaterfallOptions} options
 */
export function waterfall(rows, start, total, { selected, select, toggle, needle, logs }) {
  const scale = linearScale([0, total], [0, 100], { clamp: true });
  const ticks = evenTicks(scale, 4);
  const byId = new Map(rows.map((r) => [r.span.span_id, r.span]));
  const context = { start, scale, inner: ticks.slice(1, -1), byId, selected, select, toggle, needle, logs };
  return h(
    "div",
    { class: "panel waterfall" },
    h(
      "div",
      { class: "wf-axis" },
      h("div", { class: "label" }, "Span"),
      h(
        "div",
        { class: "ticks" },
        tickLabels(scale, ticks.slice(0, -1), (ns) => (ns ? fmtDuration(Math.round(ns)) : "0")),
      ),
    ),
    rows.map((row, i) => spanRow(row, i, context)),
  );
}

function spanRow({ span, depth, hidden, parent: hasChildren }, i, { start, scale, inner, byId, selected, select, toggle, needle, logs }) {
  const pct = (ns) => `${scale(ns)}%`;
  const offset = Number(nsBig(span.start_unix_nano) - start);
  const parent = byId.get(span.parent_span_id);
  const showService = !parent || parent.service !== span.service;
  const isError = span.status === "error";
  const isSelected = span.span_id === selected;
  const found = needle ? spanMatches(span, needle) : null;
  const classes = ["span-row", isError && "error", isSelected && "selected", found === true && "match", found === false && "dimmed"]
    .filter(Boolean)
    .join(" ");
  const fold = hasChildren
    ? h(
        "button",
        {
          type: "button",
          class: "fold",
          "aria-label": hidden ? "Expand" : "Collapse",
          dataset: { fold: hidden ? "collapsed" : "expanded" },
          onclick: (e) => (e.stopPropagation(), toggle(span.span_id)),
        },
        hidden ? "▸" : "▾",
      )
    : h("span", { class: "fold" });
  return h(
    "div",
    {
      class: classes,
      role: "button",
      tabindex: "0",
      dataset: { spanId: span.span_id, spanName: span.name, status: span.status, depth: String(depth) },
      title: `${span.name} · ${fmtDuration(span.duration_ns)}`,
      onclick: () => select(isSelected ? null : span.span_id),
      onkeydown: (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          select(span.span_id);
        }
      },
      "aria-pressed": isSelected ? "true" : "false",
    },
    h(
      "div",
      { class: "span-name", style: { paddingLeft: `${4 + depth * 18}px` } },
      fold,
      isError ? h("span", { class: "err-mark", title: "error" }, "!") : null,
      h("span", { class: "label" }, span.name),
      showService ? serviceBadge(span.service) : null,
      hidden ? h("span", { class: "muted", dataset: { hidden: String(hidden) } }, `+${hidden}`) : null,
    ),
    h(
      "div",
      { class: "span-track" },
      i === 0 ? null : gridLines(scale, inner),
      h(
        "div",
        {
          class: "span-bar",
          style: { left: pct(offset), width: pct(span.duration_ns), "--svc": serviceColor(span.service) },
        },
        eventDots(span),
        logTicks(span, logs.get(span.span_id) || []),
      ),
      h("span", { class: "span-dur", style: { left: pct(offset + span.duration_ns) } }, fmtDuration(span.duration_ns)),
    ),
  );
}

/** @param {SpanDetail} span */
function eventDots(span) {
  const spanStart = nsBig(span.start_unix_nano);
  const along = linearScale([0, span.duration_ns], [0, 100], { clamp: true });
  return span.events.map((ev) => {
    const left = span.duration_ns ? along(Number(nsBig(ev.time_unix_nano) - spanStart)) : 0;
    return h("span", { class: "ev", title: ev.name, style: { left: `${left}%` } });
  });
}

/**
 * The span's log records as ticks on its bar, coloured by level.
 * @param {SpanDetail} span
 * @param {import("../model.js").LogEntry[]} records
 */
function logTicks(span, records) {
  const spanStart = nsBig(span.start_unix_nano);
  const along = linearScale([0, span.duration_ns], [0, 100], { clamp: true });
  return records.map((log) => {
    const left = span.duration_ns ? along(Number(nsBig(log.time_unix_nano) - spanStart)) : 0;
    return h("span", {
      class: `log-tick ${log.level.toLowerCase()}`,
      title: `${log.level} ${log.body}`,
      dataset: { logId: String(log.id) },
      style: { left: `${left}%` },
    });
  });
}

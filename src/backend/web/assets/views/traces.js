// `#/traces`: the newest traces, filtered by service, text and errors.

import { api } from "../api.js";
import { h } from "../dom.js";
import { fmtDuration, fmtPlain, fmtTime, plural } from "../format.js";
import { LIST_LIMIT, attrFilter, checkbox, listView, numberInput, searchInput, serviceSelect } from "../list.js";
import { runBadge, runChip, serviceBadge, statusPill } from "../telemetry.js";

/** @type {import("../router.js").View} */
export function tracesView(root, params, ctx) {
  return listView(root, params, ctx, {
    title: "Traces",
    load: api.traces,
    limit: LIST_LIMIT,
    filterKeys: ["service", "q", "errors", "attr", "min_duration_ms", "max_duration_ms", "run"],
    filters: (query, update) => [
      serviceSelect(ctx, query.get("service"), (v) => update("service", v)),
      searchInput(query.get("q"), "Search span names and attributes", (v) => update("q", v)),
      attrFilter(query.get("attr"), (v) => update("attr", v)),
      numberInput(query.get("min_duration_ms"), "Min ms", (v) => update("min_duration_ms", v)),
      numberInput(query.get("max_duration_ms"), "Max ms", (v) => update("max_duration_ms", v)),
      checkbox("Errors only", query.get("errors") === "true", (v) => update("errors", v)),
      runChip(query.get("run"), "traces"),
    ],
    count: (n) => plural(n, "trace"),
    exportHref: (query) => api.listExport("traces", query),
    noneYet: ["No traces yet", "Run your program with its OTLP exporter pointed here; traces show up as they arrive."],
    noMatch: ["No matching traces", "Change the filters to see more."],
    columns: [
      ["Time", "shrink"],
      ["Service", "shrink"],
      ["Name"],
      ["Spans", "num shrink"],
      ["Duration", "num shrink"],
      ["Status", "shrink"],
    ],
    rows: (traces) => {
      const longest = Math.max(1, ...traces.map((t) => t.duration_ns));
      return traces.map((trace) => traceRow(trace, longest));
    },
  });
}

/**
 * @param {import("../model.js").TraceSummary} trace
 * @param {number} longest the longest duration in the list, for the meter
 */
function traceRow(trace, longest) {
  const href = `#/traces/${trace.trace_id}`;
  const others = trace.services.filter((s) => s !== trace.service).length;
  return h(
    "tr",
    { class: "clickable", dataset: { traceId: trace.trace_id }, onclick: () => (location.hash = href) },
    h("td", { class: "time" }, fmtTime(trace.start_unix_nano)),
    h(
      "td",
      { class: "shrink" },
      serviceBadge(trace.service),
      others ? h("span", { class: "muted" }, ` +${others}`) : null,
      runBadge(trace.run, "traces"),
    ),
    h(
      "td",
      {},
      h("a", { href }, trace.root_name || h("span", { class: "muted" }, "(root span not received)")),
      trace.exception
        ? h("div", { class: "exception-mark", title: trace.exception, dataset: { exception: "" } }, trace.exception)
        : null,
      h("div", { class: "muted mono" }, trace.trace_id.slice(0, 16)),
    ),
    h("td", { class: "num" }, fmtPlain(trace.span_count)),
    h(
      "td",
      { class: "num" },
      h(
        "div",
        { class: "dur" },
        h("span", { class: "meter" }, h("span", { style: { width: `${(100 * trace.duration_ns) / longest}%` } })),
        fmtDuration(trace.duration_ns),
      ),
    ),
    h("td", {}, statusPill(trace.status)),
  );
}

// `#/metrics`: every series, grouped by service and meter, with what it
// says (a histogram's percentiles, a counter's total and rate, a gauge's
// value) and a sparkline; a name opens the instrument's view.

import { api } from "../api.js";
import { sparkline } from "../charts/sparkline.js";
import { h } from "../dom.js";
import { fmtPlain } from "../format.js";
import { listView, searchInput, serviceSelect } from "../list.js";
import { PERCENTILE_NOTE, seriesFacts } from "../metric-stats.js";
import { attrChips, serviceBadge } from "../telemetry.js";

/** Points per series the list asks for. */
const SPARKLINE_POINTS = 60;

/** `query` with `key` set to `value`. */
const withParam = (query, key, value) => {
  query.set(key, value);
  return query;
};

const COLUMNS = [["Name"], ["Kind", "shrink"], ["Value", "shrink"], ["Over time", "shrink"]];

/** @type {import("../router.js").View} */
export function metricsView(root, params, ctx) {
  return listView(root, params, ctx, {
    title: "Metrics",
    // A sparkline needs only the newest points; the instrument view gets them all.
    load: (query) => api.metrics(withParam(query, "points", String(SPARKLINE_POINTS))),
    filterKeys: ["service", "q"],
    filters: (query, update) => [
      serviceSelect(ctx, query.get("service"), (v) => update("service", v)),
      searchInput(query.get("q"), "Search metric names", (v) => update("q", v)),
    ],
    count: (n) => `${fmtPlain(n)} series`,
    noneYet: ["No metrics yet", "Metrics your program exports over OTLP show up here as they arrive."],
    noMatch: ["No matching metrics", "Change the filters to see more."],
    columns: COLUMNS,
    tableClass: "grid middle",
    rows: grouped,
  });
}

/**
 * A heading row per service and meter, then its series.
 * @param {import("../model.js").MetricSeries[]} series
 */
function grouped(series) {
  const groups = new Map();
  for (const s of series) {
    const key = `${s.service}\u0000${s.scope}\u0000${s.scope_version}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  const keys = [...groups.keys()].sort();
  const rows = keys.flatMap((key) => {
    const members = groups.get(key);
    const { service, scope, scope_version: version } = members[0];
    const head = h(
      "tr",
      { class: "group", dataset: { meter: scope } },
      h(
        "td",
        { colspan: COLUMNS.length },
        serviceBadge(service),
        " · meter ",
        h("b", {}, scope || "(unnamed)"),
        version ? h("span", { class: "muted" }, ` ${version}`) : null,
      ),
    );
    return [head, ...members.map(metricRow)];
  });
  if (series.some((s) => s.histogram)) {
    rows.push(h("tr", { class: "note" }, h("td", { colspan: COLUMNS.length, class: "muted" }, PERCENTILE_NOTE)));
  }
  return rows;
}

/** The instrument view of a series' metric. */
export const instrumentHref = (series) =>
  `#/metrics/${encodeURIComponent(series.service)}/${encodeURIComponent(series.name)}`;

/** @param {import("../model.js").MetricSeries} series */
function metricRow(series) {
  return h(
    "tr",
    { dataset: { metricName: series.name } },
    h(
      "td",
      {},
      h("a", { class: "metric-name", href: instrumentHref(series) }, series.name),
      series.description ? h("div", { class: "metric-desc" }, series.description) : null,
      attrChips(series.attributes),
    ),
    h("td", {}, h("span", { class: "kind" }, series.kind.replace("_", " "))),
    h("td", { class: "num" }, seriesFacts(series)),
    h("td", {}, sparkline(series.points, series.unit)),
  );
}

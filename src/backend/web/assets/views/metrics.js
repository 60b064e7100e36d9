// `#/metrics`: one row per series with its latest value and a sparkline.

import { api } from "../api.js";
import { sparkline } from "../charts/sparkline.js";
import { h } from "../dom.js";
import { fmtPlain, fmtValue } from "../format.js";
import { listView, searchInput, serviceSelect } from "../list.js";
import { attrChips, serviceBadge } from "../telemetry.js";

/** @type {import("../router.js").View} */
export function metricsView(root, params, ctx) {
  return listView(root, params, ctx, {
    title: "Metrics",
    load: api.metrics,
    filterKeys: ["service", "q"],
    filters: (query, update) => [
      serviceSelect(ctx, query.get("service"), (v) => update("service", v)),
      searchInput(query.get("q"), "Search metric names", (v) => update("q", v)),
    ],
    count: (n) => `${fmtPlain(n)} series`,
    noneYet: ["No metrics yet", "Metrics your program exports over OTLP show up here as they arrive."],
    noMatch: ["No matching metrics", "Change the filters to see more."],
    columns: [["Name"], ["Service", "shrink"], ["Kind", "shrink"], ["Latest", "num shrink"], ["Over time", "shrink"]],
    tableClass: "grid middle",
    rows: (series) => series.map(metricRow),
  });
}

/** @param {import("../model.js").MetricSeries} series */
function metricRow(series) {
  const last = series.points[series.points.length - 1];
  const aggregated = last?.count != null;
  return h(
    "tr",
    { dataset: { metricName: series.name } },
    h(
      "td",
      {},
      h("div", { class: "metric-name" }, series.name),
      series.description ? h("div", { class: "metric-desc" }, series.description) : null,
      attrChips(series.attributes),
    ),
    h("td", { class: "shrink" }, serviceBadge(series.service)),
    h("td", {}, h("span", { class: "kind" }, series.kind.replace("_", " "))),
    h(
      "td",
      { class: "num" },
      h("div", { class: "latest" }, fmtValue(series.latest, series.unit)),
      aggregated ? h("div", { class: "muted" }, `sum of ${fmtPlain(last.count)}`) : null,
    ),
    h("td", {}, sparkline(series.points, series.unit)),
  );
}

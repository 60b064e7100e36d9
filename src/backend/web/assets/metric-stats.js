// What a metric series says, by kind: a histogram's count, average and
// percentiles, a counter's total and rate, a gauge's value. Shared by the
// metrics list and the instrument view.

import { h } from "./dom.js";
import { fmtPlain, fmtValue, nsBig } from "./format.js";

/** How the percentiles are estimated, for their tooltip and the page. */
export const PERCENTILE_NOTE =
  "Percentiles are estimated from the histogram's buckets: linear interpolation within the bucket that holds them.";

/** Whether the series is a distribution with buckets. */
export const isHistogram = (series) => series.kind === "histogram" || series.kind === "exponential_histogram";

/**
 * Count, average, P50, P90 and P99, labelled and in the metric's unit.
 * @param {import("./model.js").HistogramStats} stats
 * @param {string} unit
 */
export function histogramStats(stats, unit) {
  const pairs = [
    ["Count", fmtPlain(stats.count)],
    ["Avg", fmtValue(stats.avg, unit)],
    ["P50", fmtValue(stats.p50, unit)],
    ["P90", fmtValue(stats.p90, unit)],
    ["P99", fmtValue(stats.p99, unit)],
  ];
  return h(
    "dl",
    {
      class: "hist-stats",
      title: PERCENTILE_NOTE,
      dataset: { count: stats.count, avg: stats.avg, p50: stats.p50, p90: stats.p90, p99: stats.p99 },
    },
    pairs.map(([k, v]) => h("div", { dataset: { stat: k.toLowerCase() } }, h("dt", {}, k), h("dd", {}, v))),
  );
}

/**
 * A counter's total so far: its newest value when cumulative, the held
 * points added up when each is a delta.
 * @param {import("./model.js").MetricSeries} series
 */
export function counterTotal(series) {
  if (series.temporality !== "delta") return series.latest;
  return series.points.reduce((sum, p) => sum + p.value, 0);
}

/**
 * Per second over the last two points (`null` with fewer).
 * @param {import("./model.js").MetricPoint[]} points
 * @param {string} temporality
 */
export function counterRate(points, temporality, at = points.length - 1) {
  if (at < 1) return null;
  const [prev, last] = [points[at - 1], points[at]];
  const seconds = Number(nsBig(last.time_unix_nano) - nsBig(prev.time_unix_nano)) / 1e9;
  if (seconds <= 0) return null;
  const added = temporality === "delta" ? last.value : last.value - prev.value;
  return added / seconds;
}

/** A rate in the counter's unit per second: `3.5 {request}/s` reads `3.5/s`. */
export function fmtRate(rate, unit) {
  return rate == null ? "–" : `${fmtValue(rate, unit)}/s`;
}

/**
 * The headline of a series, by kind.
 * @param {import("./model.js").MetricSeries} series
 */
export function seriesFacts(series) {
  if (series.histogram) return histogramStats(series.histogram, series.unit);
  if (series.kind === "sum") {
    return h(
      "dl",
      { class: "hist-stats" },
      h("div", { dataset: { stat: "total" } }, h("dt", {}, "Total"), h("dd", {}, fmtValue(counterTotal(series), series.unit))),
      h("div", { dataset: { stat: "rate" } }, h("dt", {}, "Rate"), h("dd", {}, fmtRate(counterRate(series.points, series.temporality), series.unit))),
    );
  }
  const last = series.points[series.points.length - 1];
  return h(
    "div",
    {},
    h("div", { class: "latest" }, fmtValue(series.latest, series.unit)),
    last?.count != null ? h("div", { class: "muted" }, `sum of ${fmtPlain(last.count)}`) : null,
  );
}

/** The statistics an instrument view can plot, by kind; the first is the default. */
export function plottable(series) {
  if (isHistogram(series)) return ["p50", "p90", "p99", "avg", "count"];
  if (series.kind === "sum") return ["total", "rate"];
  return ["value"];
}

/**
 * The value of point `i` a chart plots for `stat` (`null` when there is none).
 * @param {import("./model.js").MetricSeries} series
 */
export function plotValue(series, i, stat) {
  const point = series.points[i];
  if (point.histogram && stat in point.histogram) return point.histogram[stat];
  if (stat === "rate") return counterRate(series.points, series.temporality, i);
  if (stat === "total" && series.temporality === "delta") {
    return series.points.slice(0, i + 1).reduce((sum, p) => sum + p.value, 0);
  }
  return point.value;
}

/** The unit a plotted statistic is in (a count has none). */
export const statUnit = (series, stat) => (stat === "count" ? "" : series.unit);

/** `key=value, key=value`, or `(no attributes)`. */
export function attrText(attributes) {
  return attributes.length ? attributes.map((a) => `${a.key}=${a.value}`).join(", ") : "(no attributes)";
}

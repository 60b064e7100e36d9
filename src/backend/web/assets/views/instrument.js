// `#/metrics/<service>/<name>`: one instrument over time, as a chart with
// axes (a line per attribute combination, exemplars linking to their
// traces) or as a table; a time window, a statistic and a filter by
// attribute value, all in the hash's query.

import { api } from "../api.js";
import { PALETTE, timeChart } from "../charts/timechart.js";
import { empty, h, loadFailed, thead } from "../dom.js";
import { fmtTime, fmtValue, nsBig } from "../format.js";
import { choice, setParam } from "../list.js";
import { PERCENTILE_NOTE, attrText, isHistogram, plotValue, plottable, seriesFacts, statUnit } from "../metric-stats.js";
import { serviceBadge } from "../telemetry.js";

/** Time windows, in seconds back from the newest point (`all`: everything held). */
const WINDOWS = [["1m", 60], ["5m", 300], ["15m", 900], ["1h", 3600], ["all", 0]];
/** Rows the table shows at most, newest first. */
const TABLE_ROWS = 500;

/** @type {import("../router.js").View} */
export function instrumentView(root, { service, name, query }, ctx) {
  ctx.setTitle(name);
  const controls = h("span", { class: "controls" });
  const body = h("div", {});
  root.append(
    h("div", { class: "toolbar" }, h("a", { href: "#/metrics" }, "← All metrics")),
    h("div", { class: "toolbar" }, h("h1", {}, name), serviceBadge(service), controls),
    body,
  );
  const update = (key, value) => {
    setParam(query, key, value);
    ctx.replaceQuery(query);
    ctx.refresh();
  };

  async function refresh() {
    const request = new URLSearchParams({ service, q: name });
    const all = (await api.metrics(request)).filter((s) => s.name === name && s.service === service);
    if (!all.length) {
      controls.replaceChildren();
      body.replaceChildren(h("div", { class: "panel" }, empty("No such instrument", `${service} has sent no metric ${name} that is still held.`)));
      return;
    }
    const stats = plottable(all[0]);
    const stat = stats.includes(query.get("stat")) ? query.get("stat") : stats[0];
    const where = query.get("where") || "";
    const windowName = query.get("window") || "all";
    const shown = all.filter((s) => !where || s.attributes.some((a) => `${a.key}=${a.value}` === where));
    controls.replaceChildren(
      choice("Time window", WINDOWS.map(([n]) => [n, n === "all" ? "All held" : `Last ${n}`]), windowName, (v) => update("window", v)),
      stats.length > 1 ? choice("Statistic", stats.map((s) => [s, s.toUpperCase()]), stat, (v) => update("stat", v)) : null,
      choice("Attribute", [["", "All attributes"], ...attributeValues(all).map((v) => [v, v])], where, (v) => update("where", v)),
      toggle(query.get("view") === "table" ? "table" : "chart", (v) => update("view", v)),
    );
    const [from, to] = timeWindow(all, windowName);
    const inWindow = (p) => nsBig(p.time_unix_nano) >= from;
    const view = query.get("view") === "table" ? table(shown, stat, inWindow) : chart(shown, stat, [from, to], inWindow);
    body.replaceChildren(
      h("div", { class: "panel chart-panel" }, view),
      h("div", { class: "panel chart-panel" }, h("h3", {}, "Latest"), latest(shown)),
      isHistogram(all[0]) ? h("p", { class: "muted" }, PERCENTILE_NOTE) : null,
    );
  }

  return { refresh, failed: (error) => body.replaceChildren(loadFailed(error)) };
}

/** Every `key=value` the series carry, sorted. */
function attributeValues(series) {
  return [...new Set(series.flatMap((s) => s.attributes.map((a) => `${a.key}=${a.value}`)))].sort();
}

/** `[from, to]` in Unix nanoseconds: the window back from the newest point. */
function timeWindow(series, windowName) {
  const times = series.flatMap((s) => s.points.map((p) => nsBig(p.time_unix_nano)));
  const to = times.reduce((m, t) => (t > m ? t : m), 0n);
  const oldest = times.reduce((m, t) => (t < m ? t : m), to);
  const seconds = WINDOWS.find(([n]) => n === windowName)?.[1] || 0;
  // Everything held at one instant (a single export) still gets a minute of axis.
  const from = seconds ? to - BigInt(seconds) * 1000000000n : oldest;
  return [to - from < 1000000000n ? to - 60000000000n : from, to];
}

function toggle(current, onChange) {
  const link = (value, text) =>
    h("button", { type: "button", class: value === current ? "active" : "", dataset: { view: value }, onclick: () => onChange(value) }, text);
  return h("span", { class: "toggle" }, link("chart", "Chart"), link("table", "Table"));
}

function chart(series, stat, window, inWindow) {
  const lines = series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = s.points.map((p, at) => ({ p, t: nsBig(p.time_unix_nano), v: plotValue(s, at, stat) })).filter(({ p }) => inWindow(p));
    const exemplars = points.flatMap(({ p, t, v }) =>
      p.exemplars.filter((e) => e.trace_id).map((e) => ({
        t,
        v: isHistogram(s) && stat !== "count" ? e.value : v,
        href: `#/traces/${e.trace_id}?span=${e.span_id}`,
        title: `exemplar ${fmtValue(e.value, s.unit)} · trace ${e.trace_id}`,
      })),
    );
    return { label: attrText(s.attributes), color, points, exemplars };
  });
  const legend = h(
    "div",
    { class: "legend" },
    lines.map((l) => h("span", { dataset: { legend: l.label } }, h("span", { class: "swatch", style: { background: l.color } }), l.label)),
  );
  return [timeChart(lines, statUnit(series[0], stat), window), legend];
}

function table(series, stat, inWindow) {
  const rows = series
    .flatMap((s) => s.points.map((p, at) => ({ s, p, v: plotValue(s, at, stat) })))
    .filter(({ p }) => inWindow(p))
    .sort((a, b) => (nsBig(b.p.time_unix_nano) > nsBig(a.p.time_unix_nano) ? 1 : -1))
    .slice(0, TABLE_ROWS);
  return h(
    "table",
    { class: "grid", dataset: { table: "points" } },
    thead([["Time", "shrink"], ["Attributes"], [stat.toUpperCase(), "num shrink"], ["Exemplars", "shrink"]]),
    h(
      "tbody",
      {},
      rows.map(({ s, p, v }) =>
        h(
          "tr",
          {},
          h("td", { class: "time" }, fmtTime(p.time_unix_nano)),
          h("td", {}, attrText(s.attributes)),
          h("td", { class: "num" }, v == null ? "–" : fmtValue(v, statUnit(s, stat))),
          h("td", {}, p.exemplars.filter((e) => e.trace_id).map((e) => [h("a", { href: `#/traces/${e.trace_id}?span=${e.span_id}` }, fmtValue(e.value, s.unit)), " "])),
        ),
      ),
    ),
  );
}

/** Each series' headline: percentiles, total and rate, or value. */
function latest(series) {
  return h(
    "table",
    { class: "grid middle" },
    h("tbody", {}, series.map((s) => h("tr", {}, h("td", {}, attrText(s.attributes)), h("td", { class: "num" }, seriesFacts(s))))),
  );
}

// A line chart over time with axes: one line per series, exemplars as dots
// that link to their trace. Drawn in SVG user units (a fixed view box that
// scales with its container).

import { svg } from "../dom.js";
import { fmtTime, fmtValue } from "../format.js";
import { linearScale, niceTicks } from "./scale.js";

const [W, H] = [1000, 300];
const M = { left: 78, right: 16, top: 10, bottom: 26 };

/** Line colours, one per series in order. */
export const PALETTE = ["#4f46e5", "#d1242f", "#1a7f37", "#bf8700", "#0969da", "#8250df", "#e16f24", "#57606a"];

/**
 * @typedef {object} ChartLine
 * @property {string} label
 * @property {string} color
 * @property {{ t: bigint, v: number }[]} points oldest first; t in Unix nanoseconds
 * @property {{ t: bigint, v: number, href: string, title: string }[]} exemplars
 */

/**
 * @param {ChartLine[]} lines
 * @param {string} unit for the value axis
 * @param {[bigint, bigint]} window the time span shown
 */
export function timeChart(lines, unit, [from, to]) {
  const chart = svg("svg", { class: "timechart", viewBox: `0 0 ${W} ${H}`, role: "img" });
  const values = lines.flatMap((l) => [...l.points, ...l.exemplars].map((p) => p.v)).filter(Number.isFinite);
  const { ticks, domain } = niceTicks(Math.min(0, ...values), Math.max(...values, 0));
  const y = linearScale(domain, [H - M.bottom, M.top]);
  const span = Math.max(1, Number(to - from));
  const x = (t) => linearScale([0, span], [M.left, W - M.right])(Number(t - from));
  const axis = svg("g", { class: "axis" });
  for (const v of ticks) {
    axis.append(
      svg("line", { class: "grid-line", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      svg("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, fmtValue(v, unit)),
    );
  }
  for (let i = 0; i <= 5; i += 1) {
    const t = from + (BigInt(span) * BigInt(i)) / 5n;
    const anchor = i === 0 ? "start" : i === 5 ? "end" : "middle";
    axis.append(svg("text", { x: x(t), y: H - 8, "text-anchor": anchor }, fmtTime(t.toString()).split(" ").pop()));
  }
  chart.append(axis);
  for (const line of lines) {
    const shown = line.points.filter((p) => Number.isFinite(p.v));
    const coords = shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    const g = svg("g", { "data-line": line.label });
    g.append(svg("title", {}, line.label));
    if (coords.length > 1) g.append(svg("polyline", { class: "series", stroke: line.color, points: coords.join(" ") }));
    for (const p of shown.length === 1 ? shown : []) g.append(svg("circle", { cx: x(p.t), cy: y(p.v), r: 3, fill: line.color }));
    for (const e of line.exemplars) {
      const dot = svg("circle", { class: "exemplar", cx: x(e.t), cy: y(e.v), r: 4.5, fill: line.color });
      dot.append(svg("title", {}, e.title));
      g.append(svg("a", { href: e.href, "data-exemplar": "" }, dot));
    }
    chart.append(g);
  }
  return chart;
}

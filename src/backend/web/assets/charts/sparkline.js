// A sparkline: a small line chart of a series over time, scaled to its own
// range, with its last point marked.

import { svg } from "../dom.js";
import { fmtValue, nsBig, plural } from "../format.js";
import { linearScale } from "./scale.js";

const PAD = 3;

/**
 * @param {import("../model.js").MetricPoint[]} points oldest first
 * @param {string} unit the series' unit, for the tooltip
 */
export function sparkline(points, unit, width = 260, height = 36) {
  const chart = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (!points.length) return chart;
  const first = points[0];
  const last = points[points.length - 1];
  const t0 = nsBig(first.time_unix_nano);
  const elapsed = (p) => Number(nsBig(p.time_unix_nano) - t0);
  const values = points.map((p) => p.value);
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const time = linearScale([0, Math.max(1, elapsed(last))], [PAD, width - PAD]);
  const x = (p) => (points.length === 1 ? width / 2 : time(elapsed(p)));
  const y = linearScale([min, max], [height - PAD, PAD]);
  const coords = points.map((p) => `${x(p).toFixed(1)},${y(p.value).toFixed(1)}`);
  chart.append(svg("title", {}, `${plural(points.length, "point")}; min ${fmtValue(min, unit)}, max ${fmtValue(max, unit)}`));
  if (points.length > 1) {
    const baseline = height - PAD;
    chart.append(
      svg("polygon", {
        class: "area",
        points: `${x(first).toFixed(1)},${baseline} ${coords.join(" ")} ${x(last).toFixed(1)},${baseline}`,
      }),
      svg("polyline", { class: "line", points: coords.join(" ") }),
    );
  }
  chart.append(svg("circle", { class: "last", cx: x(last).toFixed(1), cy: y(last.value).toFixed(1), r: 2.5 }));
  return chart;
}

// Axes drawn in HTML over a scale whose range is percent (0 to 100), so they
// stretch with their container: tick labels and dashed grid lines.

import { h } from "../dom.js";

/**
 * A labelled tick per value, placed at `scale(value)` percent.
 * @param {import("./scale.js").Scale} scale
 * @param {number[]} values
 * @param {(value: number) => string} label
 */
export function tickLabels(scale, values, label) {
  return values.map((value) => h("div", { class: "tick", style: { left: `${scale(value)}%` } }, label(value)));
}

/**
 * A dashed vertical line per value, placed at `scale(value)` percent.
 * @param {import("./scale.js").Scale} scale
 * @param {number[]} values
 */
export function gridLines(scale, values) {
  return values.map((value) => h("div", { class: "wf-grid-line", style: { left: `${scale(value)}%` } }));
}

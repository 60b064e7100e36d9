// Scales: functions from data values (a domain) to positions (a range).

/**
 * @typedef {((value: number) => number) & { domain: number[], range: number[] }} Scale
 */

/**
 * A linear scale. With `clamp`, values outside the domain map to the range's
 * ends; a domain of zero width maps every value to the range's middle.
 * @param {[number, number]} domain
 * @param {[number, number]} range
 * @returns {Scale}
 */
export function linearScale([d0, d1], [r0, r1], { clamp = false } = {}) {
  const scale = (value) => {
    if (d1 === d0) return (r0 + r1) / 2;
    let t = (value - d0) / (d1 - d0);
    if (clamp) t = Math.min(1, Math.max(0, t));
    return r0 + t * (r1 - r0);
  };
  scale.domain = [d0, d1];
  scale.range = [r0, r1];
  return scale;
}

/**
 * `count + 1` evenly spaced values from the start of the scale's domain to
 * its end.
 * @param {Scale} scale
 * @param {number} count
 */
export function evenTicks(scale, count) {
  const [d0, d1] = scale.domain;
  return Array.from({ length: count + 1 }, (_, i) => d0 + ((d1 - d0) * i) / count);
}

/**
 * About `count` round values (1, 2 or 5 times a power of ten apart) covering
 * `[min, max]`, and the domain they span.
 * @returns {{ ticks: number[], domain: [number, number] }}
 */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [0], domain: [0, 1] };
  if (min === max) [min, max] = min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max)];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, domain: [lo, hi] };
}

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

// Text for times, durations, numbers and units. Pure functions: no DOM.

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Unix nanoseconds (a decimal string, as the API sends them) as a BigInt. */
export const nsBig = (ns) => BigInt(ns || "0");

const nsToDate = (ns) => new Date(Number(nsBig(ns) / 1000000n));

/** `14:03:07.123`, with the date in front when it is not today. */
export function fmtTime(ns) {
  const d = nsToDate(ns);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** `2024-05-01 14:03:07.123`, always with the date. */
export function fmtDateTime(ns) {
  const d = nsToDate(ns);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtTime(ns).split(" ").pop()}`;
}

/** Nanoseconds as `812 ns`, `4.2 µs`, `35.1 ms`, `2.35 s` or `3m 12s`. */
export function fmtDuration(ns) {
  ns = Number(ns);
  const fixed = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${fixed(ns / 1e3)} µs`;
  if (ns < 1e9) return `${fixed(ns / 1e6)} ms`;
  if (ns < 60e9) return `${fixed(ns / 1e9)} s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** A count or measurement in the reader's locale: `1,234.5`. */
export const fmtPlain = (value) => plain.format(value);

/** Like `fmtPlain`, but `12M` past a million. */
export function fmtNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1e6 ? compact.format(value) : plain.format(value);
}

/** UCUM units as people write them: `{request}` and `1` say nothing. */
export function fmtUnit(unit) {
  if (!unit || unit === "1" || /^\{.*\}$/.test(unit)) return "";
  return unit;
}

const BYTE_SCALES = { By: 1, KiBy: 1024, MiBy: 1024 ** 2, GiBy: 1024 ** 3 };
const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** A value with its unit: `33`, `12.5 ms`, `38.3 MiB`. */
export function fmtValue(value, unit) {
  const shown = fmtUnit(unit);
  const scale = BYTE_SCALES[shown];
  if (scale && Number.isFinite(value)) {
    let bytes = value * scale;
    let i = 0;
    while (Math.abs(bytes) >= 1024 && i < BYTE_UNITS.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    return `${plain.format(Number(bytes.toFixed(1)))} ${BYTE_UNITS[i]}`;
  }
  return shown ? `${fmtNumber(value)} ${shown}` : fmtNumber(value);
}

/** `1 trace`, `3 traces`. */
export function plural(n, word) {
  return `${plain.format(n)} ${word}${n === 1 ? "" : "s"}`;
}

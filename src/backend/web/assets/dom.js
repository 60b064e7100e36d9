// Building DOM under a strict Content-Security-Policy: no inline script or
// style, so every element is made here and every piece of text goes in as a
// Text node (never innerHTML): telemetry can carry markup, and it stays text.

/**
 * Creates an element. `class`, `dataset` and `style` (through the CSSOM, which
 * the CSP allows) are special; `onX` adds a listener; other props are
 * attributes. Children are nodes or text; null and false are skipped.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...any} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") setStyle(el, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  appendAll(el, children);
  return el;
}

/** Creates an SVG element; every prop is an attribute. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  appendAll(el, children);
  return el;
}

function setStyle(el, style) {
  for (const [key, value] of Object.entries(style)) {
    if (key.startsWith("--")) el.style.setProperty(key, value);
    else el.style[key] = value;
  }
}

/** Appends nodes and text (nested arrays flattened, null and false skipped). */
export function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** The centred "nothing to show" block: a bold title over a line of text. */
export function empty(title, text) {
  return h("div", { class: "empty" }, h("strong", {}, title), text);
}

/** The block a view shows when its data could not be loaded. */
export function loadFailed(error) {
  return empty("Could not load this view", error.message);
}

/** A table head; `columns` are `[title, class]` pairs. */
export function thead(columns) {
  return h("thead", {}, h("tr", {}, columns.map(([title, cls]) => h("th", { class: cls }, title))));
}

/** A definition list of `[key, value]` pairs. */
export function kvList(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

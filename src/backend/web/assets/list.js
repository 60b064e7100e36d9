// The list views' shared shape: a toolbar (title, filters, a count) over a
// table, or over an empty state that says whether the filters hide
// everything. Filters live in the hash's query, so a filtered list is a link.

import { appendAll, empty, h, loadFailed, thead } from "./dom.js";

/** How many items a list asks for: the newest this many. */
export const LIST_LIMIT = 500;

/**
 * @typedef {object} ListSpec
 * @property {string} title the toolbar's heading
 * @property {(query: URLSearchParams) => Promise<any[]>} load fetches the items
 * @property {number} [limit] sent as `limit` with every load
 * @property {string[]} filterKeys the query keys that narrow the list
 * @property {(query: URLSearchParams, update: (key: string, value: string) => void) => any[]} filters
 *   the toolbar's controls between the title and the count
 * @property {(n: number) => string} count `3 traces`
 * @property {[string, string]} noneYet the empty state's title and text when nothing is held
 * @property {[string, string]} noMatch the same when the filters hide everything
 * @property {[string, string?][]} columns `[title, class]`
 * @property {string} [tableClass]
 * @property {(items: any[]) => Node[]} rows
 * @property {(query: URLSearchParams) => string} [exportHref] where the listed items
 *   download as OTLP/JSON (the toolbar then links to it)
 */

/**
 * Mounts a list view; returns its `refresh` and `failed` for the router.
 * @param {HTMLElement} root
 * @param {import("./router.js").RouteParams} params
 * @param {import("./router.js").ViewContext} ctx
 * @param {ListSpec} spec
 * @returns {import("./router.js").MountedView}
 */
export function listView(root, { query }, ctx, spec) {
  const update = (key, value) => {
    setParam(query, key, value);
    query.delete("page");
    ctx.replaceQuery(query);
    ctx.refresh();
  };
  const count = h("span", { class: "count" });
  const pager = h("div", { class: "pager" });
  const results = h("div", { class: "panel" });
  const exported = spec.exportHref
    ? h("a", { class: "export", download: "", dataset: { export: "" }, title: "The listed items as an OTLP/JSON export request" }, "Export OTLP/JSON")
    : null;
  root.append(h("div", { class: "toolbar" }, h("h1", {}, spec.title), spec.filters(query, update), count, exported), results, pager);

  const toPage = (page) => {
    setParam(query, "page", page > 0 ? String(page) : "");
    ctx.replaceQuery(query);
    ctx.refresh();
  };

  async function refresh() {
    const request = new URLSearchParams(query);
    request.delete("page");
    const page = Math.max(0, Number(query.get("page")) || 0);
    if (spec.limit) {
      // One more than a page says whether there is a next one.
      request.set("limit", String(spec.limit + 1));
      if (page) request.set("offset", String(page * spec.limit));
    }
    if (exported) {
      const selection = new URLSearchParams(request);
      if (spec.limit) selection.set("limit", String(spec.limit));
      exported.href = spec.exportHref(selection);
    }
    let items = await spec.load(request);
    const more = Boolean(spec.limit) && items.length > spec.limit;
    if (more) items = items.slice(0, spec.limit);
    const first = page * (spec.limit || 0);
    count.textContent = page || more ? `${spec.count(items.length)} (${first + 1}–${first + items.length}, newest first)` : spec.count(items.length);
    pager.replaceChildren(
      ...[
        page ? h("button", { type: "button", class: "link-button", dataset: { page: "newer" }, onclick: () => toPage(page - 1) }, "← Newer") : null,
        more ? h("button", { type: "button", class: "link-button", dataset: { page: "older" }, onclick: () => toPage(page + 1) }, "Older →") : null,
      ].filter(Boolean),
    );
    if (!items.length) {
      const [title, text] = spec.filterKeys.some((key) => query.get(key)) ? spec.noMatch : spec.noneYet;
      results.replaceChildren(empty(title, text));
      return;
    }
    results.replaceChildren(
      h("table", { class: spec.tableClass || "grid" }, thead(spec.columns), h("tbody", {}, spec.rows(items))),
    );
  }

  return { refresh, failed: (error) => results.replaceChildren(loadFailed(error)) };
}

/** Sets `key` to `value`, or removes it when `value` is empty. */
export function setParam(query, key, value) {
  if (value) query.set(key, value);
  else query.delete(key);
}

/**
 * A select of the services the live store knows, kept current while the
 * view is mounted. A service from the URL stays selectable before it reports.
 * @param {import("./router.js").ViewContext} ctx
 * @param {string | null} selected
 * @param {(service: string) => void} onChange
 */
export function serviceSelect(ctx, selected, onChange) {
  let chosen = selected || "";
  const select = h("select", {
    class: "svc-select",
    "aria-label": "Service",
    onchange: () => {
      chosen = select.value;
      onChange(chosen);
    },
  });
  let shown = null;
  const fill = (services) => {
    const names = [...new Set([...services, chosen].filter(Boolean))].sort();
    if (shown === names.join("\n")) return;
    shown = names.join("\n");
    select.replaceChildren(h("option", { value: "" }, "All services"));
    appendAll(select, names.map((name) => h("option", { value: name }, name)));
    select.value = chosen;
  };
  fill(ctx.live.summary.services);
  ctx.subscribe(({ summary }) => fill(summary.services));
  return select;
}

/** A search box that reports its trimmed text 250 ms after the last keystroke. */
export function searchInput(value, placeholder, onChange) {
  let timer;
  const input = h("input", {
    type: "search",
    placeholder,
    "aria-label": placeholder,
    value: value || "",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => onChange(input.value.trim()), 250);
    },
  });
  return input;
}

/** A labelled checkbox that reports `"true"` or `""`. */
export function checkbox(label, checked, onChange) {
  return h(
    "label",
    { class: "check" },
    h("input", { type: "checkbox", checked, onchange: (e) => onChange(e.target.checked ? "true" : "") }),
    label,
  );
}

/**
 * A labelled select of `[value, text]` options that reports the value chosen.
 * @param {string} label its accessible name
 * @param {[string, string][]} options
 * @param {string} value
 * @param {(value: string) => void} onChange
 */
export function choice(label, options, value, onChange) {
  const select = h(
    "select",
    { "aria-label": label, dataset: { choice: label }, onchange: () => onChange(select.value) },
    options.map(([v, text]) => h("option", { value: v }, text)),
  );
  select.value = value;
  return select;
}

/** The operators of an attribute filter, as the API spells them. */
const ATTR_OPS = [["=", "="], ["!=", "≠"], ["~", "contains"]];

/**
 * An attribute filter: a key, an operator and a value, reported as the API's
 * `attr` (`KEY=VALUE`, `KEY!=VALUE`, `KEY~TEXT`) once both key and value are
 * set, or `""` when the key is cleared.
 * @param {string | null} current
 * @param {(attr: string) => void} onChange
 */
export function attrFilter(current, onChange) {
  const match = /^([^=!~]+)(!=|=|~)(.*)$/.exec(current || "");
  const key = h("input", { type: "search", class: "attr-key", placeholder: "Attribute key", "aria-label": "Attribute key", value: match?.[1] || "" });
  const op = choice("Operator", ATTR_OPS, match?.[2] || "=", () => report());
  const value = h("input", { type: "search", class: "attr-value", placeholder: "Value", "aria-label": "Attribute value", value: match?.[3] || "" });
  let timer;
  const report = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const k = key.value.trim();
      onChange(k ? `${k}${op.value}${value.value}` : "");
    }, 250);
  };
  key.addEventListener("input", report);
  value.addEventListener("input", report);
  return h("span", { class: "attr-filter", dataset: { filter: "attr" } }, key, op, value);
}

/** A number box (empty for none) reported 250 ms after the last keystroke. */
export function numberInput(value, label, onChange) {
  let timer;
  const input = h("input", {
    type: "number",
    min: "0",
    class: "num-input",
    placeholder: label,
    "aria-label": label,
    value: value || "",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => onChange(input.value.trim()), 250);
    },
  });
  return input;
}

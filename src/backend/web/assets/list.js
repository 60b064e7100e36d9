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
    ctx.replaceQuery(query);
    ctx.refresh();
  };
  const count = h("span", { class: "count" });
  const results = h("div", { class: "panel" });
  root.append(h("div", { class: "toolbar" }, h("h1", {}, spec.title), spec.filters(query, update), count), results);

  async function refresh() {
    const request = new URLSearchParams(query);
    if (spec.limit) request.set("limit", String(spec.limit));
    const items = await spec.load(request);
    count.textContent = spec.count(items.length);
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

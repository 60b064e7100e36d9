// `#/traces/<id>?span=<id>`: one trace as a waterfall, with the selected
// span's details beside it.

import { api } from "../api.js";
import { empty, h, kvList, loadFailed } from "../dom.js";
import { exceptionBlock, hasException } from "../exception.js";
import { fmtDateTime, fmtDuration, fmtPlain, nsBig, plural } from "../format.js";
import { searchInput, setParam } from "../list.js";
import { serviceBadge, statusPill } from "../telemetry.js";
import { spanMatches, treeOrder, visibleRows, waterfall } from "./waterfall.js";

/** @type {import("../router.js").View} */
export function traceView(root, { traceId, query }, ctx) {
  const head = h("div", { class: "trace-head" });
  const layout = h("div", { class: "trace-layout" });
  let selected = query.get("span");
  /** @type {import("../model.js").TraceDetail | null} */
  let trace = null;
  /** The trace's log records by span id, drawn on the bars. */
  let logs = new Map();
  const collapsed = new Set((query.get("collapsed") || "").split(",").filter(Boolean));
  let needle = (query.get("find") || "").toLowerCase();
  const found = h("span", { class: "muted", dataset: { found: "" } });
  const keep = (key, value) => {
    setParam(query, key, value);
    ctx.replaceQuery(query);
    render();
  };
  const toggle = (spanId) => {
    if (!collapsed.delete(spanId)) collapsed.add(spanId);
    keep("collapsed", [...collapsed].join(","));
  };
  const find = searchInput(query.get("find"), "Find spans in this trace", (text) => {
    needle = text.toLowerCase();
    keep("find", text);
  });
  const exported = h("a", { class: "export", download: `trace-${traceId}.json`, href: api.traceExport(traceId), dataset: { export: "" } }, "Export OTLP/JSON");
  root.append(h("div", { class: "toolbar" }, h("a", { href: "#/traces" }, "← All traces"), find, found, h("span", { class: "count" }, exported)), head, layout);

  const select = (spanId) => {
    selected = spanId;
    setParam(query, "span", spanId);
    ctx.replaceQuery(query);
    render();
  };

  async function refresh() {
    try {
      [trace, logs] = await Promise.all([api.trace(traceId), logsBySpan(traceId)]);
    } catch (error) {
      if (error.status !== 404 && error.status !== 400) throw error;
      head.replaceChildren();
      layout.replaceChildren(
        h("div", { class: "panel" }, empty("Trace not found", `${traceId} is not (or no longer) held. `)),
      );
      return;
    }
    render();
  }

  function render() {
    const spans = trace.spans;
    const start = spans.reduce((m, s) => (nsBig(s.start_unix_nano) < m ? nsBig(s.start_unix_nano) : m), nsBig(spans[0]?.start_unix_nano));
    const end = spans.reduce((m, s) => {
      const e = nsBig(s.start_unix_nano) + BigInt(s.duration_ns);
      return e > m ? e : m;
    }, start);
    const total = Math.max(1, Number(end - start));
    const rows = treeOrder(spans);
    const root = rows[0]?.span;
    ctx.setTitle(root?.name || "Trace");
    head.replaceChildren(h("h1", {}, root?.name || "Trace"), facts(trace, start, total));
    const selectedSpan = spans.find((s) => s.span_id === selected);
    layout.classList.toggle("with-detail", Boolean(selectedSpan));
    const matches = needle ? spans.filter((s) => spanMatches(s, needle)).length : 0;
    found.textContent = needle ? `${matches} of ${plural(spans.length, "span")} match` : "";
    const options = { selected, select, toggle, needle, logs };
    layout.replaceChildren(waterfall(visibleRows(rows, collapsed), start, total, options));
    if (selectedSpan) layout.append(spanDetail(selectedSpan, start, () => select(null)));
  }

  return { refresh, failed: (error) => layout.replaceChildren(loadFailed(error)) };
}

/** The trace's log records (the newest 500), by the span they were emitted in. */
async function logsBySpan(traceId) {
  const records = await api.logs(new URLSearchParams({ trace_id: traceId, limit: "500" }));
  const bySpan = new Map();
  for (const record of records) {
    if (!bySpan.has(record.span_id)) bySpan.set(record.span_id, []);
    bySpan.get(record.span_id).push(record);
  }
  return bySpan;
}

/** The line under the title: start, duration, counts, services, id, logs link. */
function facts(trace, start, total) {
  const spans = trace.spans;
  const errors = spans.filter((s) => s.status === "error").length;
  const services = [...new Set(spans.map((s) => s.service))];
  return h(
    "div",
    { class: "facts" },
    h("span", {}, "Started ", h("b", {}, spans.length ? fmtDateTime(start.toString()) : "–")),
    h("span", {}, "Duration ", h("b", {}, fmtDuration(total))),
    h("span", {}, h("b", {}, fmtPlain(spans.length)), spans.length === 1 ? " span" : " spans"),
    errors ? h("span", { class: "status error" }, plural(errors, "error")) : null,
    h("span", {}, services.map((s) => [serviceBadge(s), " "])),
    h("span", { class: "mono" }, trace.trace_id),
    h("a", { href: `#/logs?trace_id=${trace.trace_id}` }, "Logs for this trace →"),
  );
}

/**
 * The side panel: status, ids, timing, attributes and events of one span.
 * @param {import("../model.js").SpanDetail} span
 * @param {bigint} traceStart
 * @param {() => void} close
 */
function spanDetail(span, traceStart, close) {
  const spanStart = nsBig(span.start_unix_nano);
  const none = () => h("p", { class: "muted" }, "None.");
  return h(
    "aside",
    { class: "panel detail", dataset: { spanId: span.span_id } },
    h("button", { class: "close", title: "Close", "aria-label": "Close", onclick: close }, "×"),
    h("h2", {}, span.name),
    h("div", {}, statusPill(span.status), " ", h("span", { class: "kind" }, span.kind), " ", serviceBadge(span.service)),
    span.status_message ? h("p", { class: "status-msg" }, span.status_message) : null,
    h("h3", {}, "Span"),
    kvList([
      ["span id", span.span_id],
      ["parent", span.parent_span_id || "(root)"],
      ["start", fmtDateTime(span.start_unix_nano)],
      ["offset", `+${fmtDuration(Number(spanStart - traceStart))}`],
      ["duration", fmtDuration(span.duration_ns)],
      ["scope", span.scope || "–"],
      ["scope version", span.scope_version || "–"],
    ]),
    h("h3", {}, `Attributes (${span.attributes.length})`),
    span.attributes.length ? kvList(span.attributes.map((a) => [a.key, a.value])) : none(),
    h("h3", {}, `Events (${span.events.length})`),
    span.events.length ? span.events.map((ev) => eventBlock(ev, spanStart)) : none(),
    h("h3", {}, `Links (${span.links.length})`),
    span.links.length ? span.links.map(linkBlock) : none(),
    h("h3", {}, `Resource (${span.resource.length})`),
    span.resource.length ? h("div", { dataset: { resource: "" } }, kvList(span.resource.map((a) => [a.key, a.value]))) : none(),
  );
}

/**
 * A link to another span: to its trace when that is held.
 * @param {import("../model.js").SpanLink} link
 */
function linkBlock(link) {
  const target = `${link.trace_id} / ${link.span_id}`;
  return h(
    "div",
    { class: "event", dataset: { linkTrace: link.trace_id } },
    link.held
      ? h("a", { class: "mono", href: `#/traces/${link.trace_id}?span=${link.span_id}` }, target)
      : h("span", { class: "mono", title: "This trace is not (or no longer) held." }, target),
    link.attributes.length ? kvList(link.attributes.map((a) => [a.key, a.value])) : null,
  );
}

/**
 * An event; an `exception` event shows its stack trace.
 * @param {import("../model.js").SpanEvent} ev
 */
function eventBlock(ev, spanStart) {
  const exception = ev.name === "exception" && hasException(ev.attributes);
  let body = null;
  if (exception) body = exceptionBlock(ev.attributes);
  else if (ev.attributes.length) body = kvList(ev.attributes.map((a) => [a.key, a.value]));
  return h(
    "div",
    { class: exception ? "event exception-event" : "event" },
    h("div", { class: "ev-head" }, ev.name, h("span", {}, `+${fmtDuration(Number(nsBig(ev.time_unix_nano) - spanStart))}`)),
    body,
  );
}

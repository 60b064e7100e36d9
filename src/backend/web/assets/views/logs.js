// `#/logs`: the newest log records, filtered by level, service, text and trace.

import { api } from "../api.js";
import { h } from "../dom.js";
import { fmtTime, plural } from "../format.js";
import { LIST_LIMIT, attrFilter, listView, searchInput, serviceSelect } from "../list.js";
import { hasException } from "../exception.js";
import { attrChips, runBadge, runChip, serviceBadge } from "../telemetry.js";

/** Minimum levels, as `GET /api/logs?level=` takes them. */
const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

/** @type {import("../router.js").View} */
export function logsView(root, params, ctx) {
  return listView(root, params, ctx, {
    title: "Logs",
    load: api.logs,
    limit: LIST_LIMIT,
    filterKeys: ["level", "service", "q", "trace_id", "attr", "run"],
    filters: (query, update) => [
      levelSelect(query.get("level"), (v) => update("level", v)),
      serviceSelect(ctx, query.get("service"), (v) => update("service", v)),
      searchInput(query.get("q"), "Search messages and attributes", (v) => update("q", v)),
      attrFilter(query.get("attr"), (v) => update("attr", v)),
      traceChip(query.get("trace_id")),
      runChip(query.get("run"), "logs"),
    ],
    count: (n) => plural(n, "record"),
    exportHref: (query) => api.listExport("logs", query),
    noneYet: ["No logs yet", "Log records your program exports over OTLP show up here as they arrive."],
    noMatch: ["No matching log records", "Change the filters to see more."],
    columns: [["Time", "shrink"], ["Level", "shrink"], ["Service", "shrink"], ["Message"], ["Trace", "shrink"]],
    rows: (logs) => logs.map(logRow),
  });
}

function levelSelect(selected, onChange) {
  const select = h(
    "select",
    { "aria-label": "Minimum level", onchange: () => onChange(select.value) },
    h("option", { value: "" }, "All levels"),
    LEVELS.map((l) => h("option", { value: l }, `${l[0].toUpperCase()}${l.slice(1)} and above`)),
  );
  select.value = LEVELS.includes(selected) ? selected : "";
  return select;
}

/** Says the list is one trace's logs, with a way back to all of them. */
function traceChip(traceId) {
  if (!traceId) return null;
  return h(
    "span",
    { class: "chip" },
    "trace ",
    h("a", { href: `#/traces/${traceId}`, class: "mono" }, traceId.slice(0, 12)),
    h("a", { href: "#/logs", title: "Show all logs" }, "×"),
  );
}

/**
 * A record; a click opens its detail.
 * @param {import("../model.js").LogEntry} log
 */
function logRow(log) {
  const level = (log.level || "").toLowerCase();
  const traceHref = spanHref(log);
  const href = `#/logs/${log.id}`;
  return h(
    "tr",
    { class: `clickable log-${level}`, dataset: { level, logId: String(log.id) }, onclick: () => (location.hash = href) },
    h("td", { class: "time" }, h("a", { href, title: "Open the record" }, fmtTime(log.time_unix_nano))),
    h("td", {}, h("span", { class: `level ${level}` }, log.level || "?")),
    h("td", { class: "shrink" }, serviceBadge(log.service), runBadge(log.run, "logs")),
    h(
      "td",
      {},
      h("div", { class: "log-body" }, log.body),
      hasException(log.attributes) ? h("span", { class: "exception-mark" }, "exception · stack trace") : null,
      attrChips(log.attributes.filter((a) => a.key !== "exception.stacktrace")),
    ),
    h(
      "td",
      {},
      traceHref
        ? h(
            "a",
            { href: traceHref, class: "mono", title: "Open the trace", onclick: (e) => e.stopPropagation() },
            `${log.trace_id.slice(0, 8)}…`,
          )
        : null,
    ),
  );
}

/**
 * The record's span in its trace, or null outside a trace.
 * @param {import("../model.js").LogEntry} log
 */
export function spanHref(log) {
  if (!log.trace_id) return null;
  return `#/traces/${log.trace_id}${log.span_id ? `?span=${log.span_id}` : ""}`;
}

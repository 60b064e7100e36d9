// `#/logs/<id>`: one log record in full: its body, every attribute, the
// resource that emitted it, an exception's stack trace, and links to its
// trace and span.

import { api } from "../api.js";
import { appendAll, empty, h, kvList, loadFailed } from "../dom.js";
import { exceptionBlock, hasException } from "../exception.js";
import { fmtDateTime } from "../format.js";
import { serviceBadge } from "../telemetry.js";
import { spanHref } from "./logs.js";

/** @type {import("../router.js").View} */
export function logView(root, { logId }, ctx) {
  const body = h("div", { class: "panel log-detail" });
  root.append(h("div", { class: "toolbar" }, h("a", { href: "#/logs" }, "← All logs")), body);
  let shown = false;

  async function refresh() {
    // A record never changes: drawn once, so an expanded stack trace stays so.
    if (shown) return;
    try {
      const log = await api.log(logId);
      body.replaceChildren();
      appendAll(body, detail(log));
      ctx.setTitle(`${log.level} ${log.body}`.slice(0, 80));
      shown = true;
    } catch (error) {
      if (error.status !== 404 && error.status !== 400) throw error;
      body.replaceChildren(empty("Log record not found", `Record ${logId} is not (or no longer) held.`));
    }
  }

  return { refresh, failed: (error) => body.replaceChildren(loadFailed(error)) };
}

/** @param {import("../model.js").LogEntry} log */
function detail(log) {
  const level = (log.level || "").toLowerCase();
  const none = () => h("p", { class: "muted" }, "None.");
  const traceLink = log.trace_id ? h("a", { href: `#/traces/${log.trace_id}`, class: "mono" }, log.trace_id) : "–";
  const span = spanHref(log);
  const spanLink = span && log.span_id ? h("a", { href: span, class: "mono" }, log.span_id) : "–";
  return [
    h(
      "div",
      { class: "log-head" },
      h("span", { class: `level ${level}` }, log.level || "?"),
      " ",
      serviceBadge(log.service),
      " ",
      h("span", { class: "muted" }, fmtDateTime(log.time_unix_nano)),
    ),
    h("h3", {}, "Message"),
    h("pre", { class: "log-message" }, log.body),
    hasException(log.attributes) ? [h("h3", {}, "Exception"), exceptionBlock(log.attributes)] : null,
    h("h3", {}, "Record"),
    kvList([
      ["trace", traceLink],
      ["span", spanLink],
      ["severity", `${log.level} (${log.severity_number})`],
      ["scope", log.scope || "–"],
    ]),
    h("h3", {}, `Attributes (${log.attributes.length})`),
    log.attributes.length ? kvList(log.attributes.map((a) => [a.key, a.value])) : none(),
    h("h3", {}, `Resource (${log.resource.length})`),
    log.resource.length ? kvList(log.resource.map((a) => [a.key, a.value])) : none(),
  ];
}

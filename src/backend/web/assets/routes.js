// The route table: which view each hash shows, and which tab it belongs to.

import { instrumentView } from "./views/instrument.js";
import { logView } from "./views/log.js";
import { logsView } from "./views/logs.js";
import { metricsView } from "./views/metrics.js";
import { badLinkView, notFoundView } from "./views/not-found.js";
import { traceView } from "./views/trace.js";
import { tracesView } from "./views/traces.js";

/** What an empty hash shows. */
export const HOME = "/traces";

/** @type {import("./router.js").Route[]} */
export const ROUTES = [
  { name: "traces", path: "/traces", title: "Traces", tab: "traces", view: tracesView },
  { name: "trace", path: "/traces/:traceId", title: "Trace", tab: "traces", view: traceView },
  { name: "logs", path: "/logs", title: "Logs", tab: "logs", view: logsView },
  { name: "log", path: "/logs/:logId", title: "Log record", tab: "logs", view: logView },
  { name: "metrics", path: "/metrics", title: "Metrics", tab: "metrics", view: metricsView },
  { name: "instrument", path: "/metrics/:service/:name", title: "Metric", tab: "metrics", view: instrumentView },
];

export const FALLBACKS = { notFound: notFoundView, badLink: badLinkView };

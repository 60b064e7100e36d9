// The built-in dashboard's JSON API (`/api/*`), as the page reads it.

/** Thrown after a 401 sent the browser to the login page: nothing to show. */
export class SignedOut extends Error {}

/** A non-2xx answer; `status` is the HTTP status, the message the server's. */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * GETs `path` and parses its JSON.
 * @param {string} path
 * @returns {Promise<any>}
 * @throws {SignedOut | ApiError | TypeError} TypeError when the server does not answer
 */
export async function getJson(path) {
  const response = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { accept: "application/json" },
  });
  if (response.status === 401) {
    // The session ended (the server restarted): sign in again, then come back here.
    location.assign(`/login?returnUrl=${encodeURIComponent("/" + location.hash)}`);
    throw new SignedOut("signed out");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error || message;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(message, response.status);
  }
  return response.json();
}

/** The header the server wants on a `POST` (see `ACTION_HEADER` in api.rs). */
const ACTION_HEADER = "x-cargo-otel-action";

/**
 * POSTs an action to `path`; resolves with the JSON answer.
 * @param {string} action the header's value, which the server checks
 * @param {string} path
 */
async function postAction(action, path) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    headers: { accept: "application/json", [ACTION_HEADER]: action },
  });
  if (!response.ok) throw new ApiError(`${response.status} ${response.statusText}`, response.status);
  return response.json();
}

/** One function per endpoint; queries are `URLSearchParams` as the API takes them. */
export const api = {
  /** @returns {Promise<import("./model.js").Summary>} */
  summary: () => getJson("/api/summary"),
  /** @returns {Promise<import("./model.js").TraceSummary[]>} newest first */
  traces: (query) => getJson(`/api/traces?${query}`),
  /** @returns {Promise<import("./model.js").TraceDetail>} */
  trace: (traceId) => getJson(`/api/traces/${encodeURIComponent(traceId)}`),
  /** @returns {Promise<import("./model.js").LogEntry[]>} newest first */
  logs: (query) => getJson(`/api/logs?${query}`),
  /** @returns {Promise<import("./model.js").LogEntry>} */
  log: (id) => getJson(`/api/logs/${encodeURIComponent(id)}`),
  /** @returns {Promise<import("./model.js").MetricSeries[]>} */
  metrics: (query) => getJson(`/api/metrics?${query}`),
  /** Takes out everything held, or what `service` sent. */
  clear: (service) => postAction("clear", `/api/clear${service ? `?service=${encodeURIComponent(service)}` : ""}`),
  /** Where a trace downloads as OTLP/JSON. */
  traceExport: (traceId) => `/api/traces/${encodeURIComponent(traceId)}/otlp`,
  /** Where the traces or logs a query selects download as OTLP/JSON. */
  listExport: (signal, query) => `/api/export/${signal}?${query}`,
};

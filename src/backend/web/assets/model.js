// The JSON the built-in dashboard's API returns, as JSDoc types: a mirror of
// `src/backend/model.rs` (a Rust unit test checks that every `@typedef`
// below lists exactly the fields the server sends). Types only; nothing
// imports this file at run time.
//
// Ids are lowercase hex (32 characters for traces, 16 for spans); times are
// Unix nanoseconds as decimal strings (numbers lose precision past 2^53);
// durations are nanoseconds as numbers.

/**
 * `GET /api/summary`: what is held, what was evicted, and a version that
 * changes whenever anything arrives.
 * @typedef {object} Summary
 * @property {number} version
 * @property {string[]} services
 * @property {Counts} held
 * @property {Counts} evicted
 * @property {Counts} caps
 * @property {Memory} memory
 */

/**
 * What the held telemetry takes, as the store counts it, and its cap
 * (`--max-memory`).
 * @typedef {object} Memory
 * @property {number} held_bytes
 * @property {number} cap_bytes
 */

/**
 * @typedef {object} Counts
 * @property {number} traces
 * @property {number} spans
 * @property {number} logs
 * @property {number} metric_points
 */

/** @typedef {"unset" | "ok" | "error"} StatusCode */

/**
 * `GET /api/traces?service=S&q=TEXT&errors=true&limit=N`: newest first.
 * @typedef {object} TraceSummary
 * @property {string} trace_id
 * @property {string} service the root span's service (the first span's if the root has not arrived)
 * @property {string} root_name
 * @property {string} start_unix_nano
 * @property {number} duration_ns
 * @property {StatusCode} status
 * @property {number} span_count
 * @property {string[]} services
 * @property {string} exception the first exception in the trace as `type: message`, empty when none
 * @property {number | null} run the `cargo otel dash` run that sent it, when labelled
 */

/**
 * `GET /api/traces/{trace_id}`: every span, ordered by start time.
 * @typedef {object} TraceDetail
 * @property {string} trace_id
 * @property {SpanDetail[]} spans
 */

/**
 * @typedef {object} SpanDetail
 * @property {string} span_id
 * @property {string} parent_span_id empty for a root span
 * @property {string} name
 * @property {string} service
 * @property {string} kind `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`
 * @property {string} start_unix_nano
 * @property {number} duration_ns
 * @property {StatusCode} status
 * @property {string} status_message
 * @property {Attribute[]} attributes
 * @property {SpanEvent[]} events
 * @property {string} scope the instrumentation scope (library) that recorded the span
 * @property {string} scope_version the scope's version, empty when none was sent
 * @property {Attribute[]} resource every attribute of the resource that emitted the span
 * @property {SpanLink[]} links
 */

/**
 * A span's link to another span, maybe of another trace.
 * @typedef {object} SpanLink
 * @property {string} trace_id
 * @property {string} span_id
 * @property {Attribute[]} attributes
 * @property {boolean} held whether the linked trace is held (so it can be opened)
 */

/**
 * @typedef {object} SpanEvent
 * @property {string} name
 * @property {string} time_unix_nano
 * @property {Attribute[]} attributes
 */

/**
 * An attribute with its value rendered as text.
 * @typedef {object} Attribute
 * @property {string} key
 * @property {string} value
 */

/**
 * `GET /api/logs?service=S&level=warn&q=TEXT&trace_id=ID&limit=N`: newest first;
 * `GET /api/logs/{id}`: one of them.
 * @typedef {object} LogEntry
 * @property {number} id `GET /api/logs/{id}` answers with this record while it is held
 * @property {string} time_unix_nano
 * @property {string} level `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`
 * @property {number} severity_number
 * @property {string} body
 * @property {string} service
 * @property {string} trace_id empty when the record was not emitted inside a span
 * @property {string} span_id
 * @property {Attribute[]} attributes
 * @property {Attribute[]} resource the attributes of the resource that emitted it
 * @property {string} scope
 * @property {number | null} run the `cargo otel dash` run that emitted it, when labelled
 */

/**
 * `GET /api/metrics?service=S&q=TEXT`: one entry per series (service, scope,
 * name, attribute set), with its points oldest first.
 * @typedef {object} MetricSeries
 * @property {string} name
 * @property {string} service
 * @property {string} description
 * @property {string} unit
 * @property {string} kind `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`
 * @property {Attribute[]} attributes
 * @property {number} latest
 * @property {MetricPoint[]} points
 * @property {string} scope the meter that recorded the series
 * @property {string} scope_version empty when none was sent
 * @property {string} temporality `cumulative` or `delta` for sums and histograms, else empty
 * @property {HistogramStats | null} histogram histograms: the newest point's distribution
 *   (cumulative), or the held points merged (delta)
 */

/**
 * A sum or gauge value; for histograms and summaries, the sum of the
 * observations (with `count` set).
 * @typedef {object} MetricPoint
 * @property {string} time_unix_nano
 * @property {number} value
 * @property {number | null} count
 * @property {Buckets | null} buckets histograms: the point's buckets
 * @property {HistogramStats | null} histogram histograms: the point's own distribution
 * @property {Exemplar[]} exemplars
 */

/**
 * Count, sum, average and percentiles in the metric's unit; the percentiles
 * are interpolated linearly within the bucket that holds them.
 * @typedef {object} HistogramStats
 * @property {number} count
 * @property {number} sum
 * @property {number} avg
 * @property {number} p50
 * @property {number} p90
 * @property {number} p99
 */

/**
 * Explicit upper bounds, ascending; `counts` has one more entry (above the last bound).
 * @typedef {object} Buckets
 * @property {number[]} bounds
 * @property {number[]} counts
 */

/**
 * A measurement the SDK sent with a point, with the span it was taken in.
 * @typedef {object} Exemplar
 * @property {string} time_unix_nano
 * @property {number} value
 * @property {string} trace_id empty when not taken in a sampled span
 * @property {string} span_id
 */

export {};

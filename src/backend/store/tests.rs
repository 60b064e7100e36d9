use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, KeyValue, any_value::Value},
    logs::v1::{ResourceLogs, ScopeLogs},
    metrics::v1::{
        Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
        number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Status},
};

use super::*;

fn resource(service: &str) -> Option<Resource> {
    let value = AnyValue {
        value: Some(Value::StringValue(service.to_owned())),
    };
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(value),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn span(trace: u8, id: u8, parent: Option<u8>, name: &str) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: 1_000 + u64::from(id),
        end_time_unix_nano: 2_000,
        ..Default::default()
    }
}

fn traces(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    let scope_spans = vec![ScopeSpans {
        spans,
        ..Default::default()
    }];
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans,
            ..Default::default()
        }],
    }
}

fn log(body: &str, severity: i32, trace: Option<u8>) -> LogRecord {
    LogRecord {
        body: Some(AnyValue {
            value: Some(Value::StringValue(body.into())),
        }),
        severity_number: severity,
        trace_id: trace.map(|t| vec![t; 16]).unwrap_or_default(),
        ..Default::default()
    }
}

fn logs(service: &str, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    let scope_logs = vec![ScopeLogs {
        log_records: records,
        ..Default::default()
    }];
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(service),
            scope_logs,
            ..Default::default()
        }],
    }
}

fn counter(value: i64, time: u64) -> ExportMetricsServiceRequest {
    let point = NumberDataPoint {
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    };
    let metric = Metric {
        name: "requests".into(),
        data: Some(Data::Sum(Sum {
            data_points: vec![point],
            ..Default::default()
        })),
        ..Default::default()
    };
    let scope_metrics = vec![ScopeMetrics {
        metrics: vec![metric],
        ..Default::default()
    }];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("api"),
            scope_metrics,
            ..Default::default()
        }],
    }
}

#[test]
fn traces_are_summarised_and_detailed() {
    let store = Store::default();
    let mut failing = span(1, 3, Some(1), "db.query");
    failing.status = Some(Status {
        code: ProtoStatus::Error as i32,
        message: "timeout".into(),
    });
    let notable = store.ingest_traces(traces(
        "api",
        vec![
            span(1, 1, None, "GET /"),
            span(1, 2, Some(1), "render"),
            failing,
        ],
    ));
    assert_eq!(notable.len(), 2, "the root and the error span");
    let list = store.traces(&TraceQuery::default());
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].root_name.as_str(), list[0].span_count),
        ("GET /", 3)
    );
    assert_eq!(list[0].status, crate::backend::model::StatusCode::Error);
    let detail = store.trace(&list[0].trace_id).unwrap();
    assert_eq!(
        detail
            .spans
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["GET /", "render", "db.query"]
    );
    assert_eq!(detail.spans[2].status_message, "timeout");
    assert!(
        store
            .traces(&TraceQuery {
                q: Some("RENDER".into()),
                ..Default::default()
            })
            .len()
            == 1
    );
    assert!(
        store
            .traces(&TraceQuery {
                service: Some("web".into()),
                ..Default::default()
            })
            .is_empty()
    );
}

#[test]
fn logs_filter_by_level_text_and_trace() {
    let store = Store::default();
    store.ingest_logs(logs(
        "api",
        vec![
            log("started", 9, None),
            log("disk full", 17, Some(7)),
            log("slow", 13, Some(7)),
        ],
    ));
    let all = store.logs(&LogQuery::default());
    assert_eq!(
        all.iter().map(|l| l.body.as_str()).collect::<Vec<_>>(),
        ["slow", "disk full", "started"]
    );
    assert_eq!(all[1].level, "ERROR");
    let warnings = store.logs(&LogQuery {
        level: Some("warn".into()),
        ..Default::default()
    });
    assert_eq!(warnings.len(), 2);
    let in_trace = store.logs(&LogQuery {
        trace_id: Some(hex(&[7; 16])),
        q: Some("DISK".into()),
        ..Default::default()
    });
    assert_eq!(in_trace.len(), 1);
}

#[test]
fn since_and_after_leave_out_the_older() {
    let store = Store::default();
    store.ingest_traces(traces("api", vec![span(1, 1, None, "old")]));
    let mut newer = span(2, 1, None, "new");
    newer.start_time_unix_nano = 5_000;
    store.ingest_traces(traces("api", vec![newer]));
    let since = |since| {
        let query = TraceQuery {
            since: Some(since),
            ..Default::default()
        };
        let list = store.traces(&query);
        list.into_iter().map(|t| t.root_name).collect::<Vec<_>>()
    };
    assert_eq!(since(1_001), ["new", "old"]);
    assert_eq!(since(1_002), ["new"]);

    let timed = |body: &str, time| {
        let mut record = log(body, 9, None);
        record.time_unix_nano = time;
        store.ingest_logs(logs("api", vec![record]));
    };
    timed("first", 100);
    timed("second", 200);
    timed("third", 300);
    let bodies = |query: LogQuery| {
        let list = store.logs(&query);
        list.into_iter().map(|l| l.body).collect::<Vec<_>>()
    };
    assert_eq!(
        bodies(LogQuery {
            since: Some(200),
            ..Default::default()
        }),
        ["third", "second"]
    );
    let first = store.logs(&LogQuery::default())[2].id;
    assert_eq!(
        bodies(LogQuery {
            after: Some(first),
            ..Default::default()
        }),
        ["third", "second"]
    );
}

#[test]
fn caps_evict_the_oldest_and_count_it() {
    let caps = Caps {
        traces: 2,
        spans: 100,
        logs: 3,
        metric_points: 4,
        ..Caps::default()
    };
    let store = Store::new(caps);
    for t in 1..=5 {
        store.ingest_traces(traces("api", vec![span(t, 1, None, &format!("t{t}"))]));
        store.ingest_logs(logs("api", vec![log(&format!("l{t}"), 9, None)]));
        store.ingest_metrics(counter(i64::from(t), u64::from(t)));
    }
    let summary = store.summary();
    assert_eq!((summary.held.traces, summary.evicted.traces), (2, 3));
    assert_eq!((summary.held.logs, summary.evicted.logs), (3, 2));
    assert_eq!(
        (summary.held.metric_points, summary.evicted.metric_points),
        (4, 1)
    );
    let names: Vec<String> = store
        .traces(&TraceQuery::default())
        .into_iter()
        .map(|t| t.root_name)
        .collect();
    assert_eq!(names, ["t5", "t4"]);
    let series = store.metrics(&MetricQuery::default());
    assert_eq!(series[0].points.len(), 4);
    assert_eq!(series[0].latest, 5.0);
}

#[test]
fn a_huge_trace_is_bounded_by_the_span_cap() {
    let store = Store::new(Caps {
        spans: 10,
        ..Caps::default()
    });
    for batch in 0..5u8 {
        store.ingest_traces(traces(
            "api",
            (0..4).map(|i| span(batch, i, None, "s")).collect(),
        ));
    }
    assert!(store.summary().held.spans <= 10);
}

#[test]
fn spans_whose_trace_id_is_not_16_bytes_are_dropped() {
    let store = Store::default();
    let mut short = span(2, 1, None, "short id");
    short.trace_id.truncate(5);
    let mut empty = span(3, 1, None, "no id");
    empty.trace_id.clear();
    store.ingest_traces(traces("api", vec![short, empty, span(1, 1, None, "GET /")]));
    let list = store.traces(&TraceQuery::default());
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].trace_id, "01".repeat(16));
}

#[test]
fn long_text_is_cut_and_lists_are_bounded() {
    use crate::backend::limits::{
        MAX_ATTRIBUTE_COUNT, MAX_NAME_LENGTH, MAX_SPAN_EVENT_COUNT, MAX_VALUE_LENGTH,
    };
    let store = Store::default();
    let mut huge = span(1, 1, None, &"n".repeat(10_000));
    let value = |text: String| AnyValue {
        value: Some(Value::StringValue(text)),
    };
    huge.attributes = (0..1_000)
        .map(|i| KeyValue {
            key: format!("{i}{}", "k".repeat(5_000)),
            value: Some(value("é".repeat(100_000))),
            ..Default::default()
        })
        .collect();
    huge.events = vec![Default::default(); 1_000];
    store.ingest_traces(traces(&"s".repeat(400_000), vec![huge]));
    let mut body = log("", 9, None);
    body.body = Some(value("b".repeat(1_000_000)));
    store.ingest_logs(logs("api", vec![body]));

    let summary = store.summary();
    assert_eq!(summary.services.len(), 2);
    assert!(
        summary
            .services
            .iter()
            .all(|s| s.len() <= MAX_NAME_LENGTH + 3)
    );
    let id = hex(&[1; 16]);
    let detail = store.trace(&id).expect("stored");
    let span = &detail.spans[0];
    assert!(span.name.len() <= MAX_NAME_LENGTH + 3 && span.name.ends_with('…'));
    assert_eq!(span.attributes.len(), MAX_ATTRIBUTE_COUNT);
    assert_eq!(span.events.len(), MAX_SPAN_EVENT_COUNT);
    for attribute in &span.attributes {
        assert!(attribute.key.len() <= MAX_NAME_LENGTH + 3);
        // Cut at a character boundary: `é` is two bytes.
        assert!(attribute.value.len() <= MAX_VALUE_LENGTH + 3);
        assert!(
            attribute.value.ends_with("é…"),
            "{}",
            &attribute.value[..10]
        );
    }
    let logs = store.logs(&LogQuery::default());
    assert!(logs[0].body.len() <= MAX_VALUE_LENGTH + 3);
    assert!(summary.memory.held_bytes < 20 * 1024 * 1024, "{summary:?}");
}

#[test]
fn the_byte_cap_evicts_from_the_largest_signal() {
    let store = Store::new(Caps {
        bytes: 1024 * 1024,
        ..Caps::default()
    });
    let padded = |trace: u8| {
        let mut s = span(trace, 1, None, "big");
        s.attributes = vec![KeyValue {
            key: "padding".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(60_000))),
            }),
            ..Default::default()
        }];
        s
    };
    store.ingest_logs(logs("api", vec![log("small", 9, None)]));
    for trace in 0..100 {
        store.ingest_traces(traces("api", vec![padded(trace)]));
    }
    let summary = store.summary();
    assert!(summary.memory.held_bytes <= 1024 * 1024, "{summary:?}");
    assert!((15..=17).contains(&summary.held.traces), "{summary:?}");
    assert_eq!(summary.evicted.traces, 100 - summary.held.traces);
    // The small log record is still there: the spans held the most.
    assert_eq!((summary.held.logs, summary.evicted.logs), (1, 0));
    let newest = store.traces(&TraceQuery::default());
    assert_eq!(newest[0].trace_id, hex(&[99; 16]));
}

#[test]
fn a_service_is_known_while_something_of_it_is_held() {
    let store = Store::new(Caps {
        traces: 2,
        logs: 2,
        metric_points: 2,
        ..Caps::default()
    });
    // An export with no spans names no service.
    store.ingest_traces(traces("nothing", Vec::new()));
    assert!(store.summary().services.is_empty());
    for (t, service) in ["a", "b", "c"].iter().enumerate() {
        store.ingest_traces(traces(service, vec![span(t as u8, 1, None, "s")]));
    }
    assert_eq!(store.summary().services, ["b", "c"]);
    store.ingest_logs(logs("d", vec![log("one", 9, None), log("two", 9, None)]));
    store.ingest_metrics(counter(1, 1));
    store.ingest_metrics(counter(2, 2));
    store.ingest_metrics(counter(3, 3));
    assert_eq!(store.summary().services, ["api", "b", "c", "d"]);
    store.ingest_logs(logs("e", vec![log("three", 9, None), log("four", 9, None)]));
    assert_eq!(store.summary().services, ["api", "b", "c", "e"]);
}

#[test]
fn what_is_cut_off_is_given_back() {
    use crate::backend::limits::MAX_VALUE_LENGTH;
    let mut huge = span(1, 1, None, "s");
    huge.attributes = vec![KeyValue {
        key: "big".into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue("x".repeat(1024 * 1024))),
        }),
        ..Default::default()
    }];
    huge.attributes.extend(vec![KeyValue::default(); 10_000]);
    let size = bound::span(&mut huge);
    assert!(size < 2 * MAX_VALUE_LENGTH, "{size}");
    assert!(huge.attributes.capacity() <= 128);
    let Some(Value::StringValue(kept)) = &huge.attributes[0].value.as_ref().unwrap().value else {
        panic!("a string");
    };
    assert!(
        kept.capacity() <= MAX_VALUE_LENGTH + 3,
        "{}",
        kept.capacity()
    );
}

#[test]
fn a_trace_with_an_exception_is_marked_and_found_by_errors_only() {
    let store = Store::default();
    let text = |key: &str, value: &str| KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    };
    // Recorded, but the status left Unset (a library's own exception event).
    let mut failing = span(1, 2, Some(1), "work");
    failing.events = vec![opentelemetry_proto::tonic::trace::v1::span::Event {
        name: "exception".into(),
        attributes: vec![
            text("exception.type", "panic"),
            text("exception.message", "boom"),
        ],
        ..Default::default()
    }];
    store.ingest_traces(traces("api", vec![span(1, 1, None, "main"), failing]));
    store.ingest_traces(traces("api", vec![span(2, 1, None, "fine")]));
    let errors = store.traces(&TraceQuery {
        errors: Some(true),
        ..Default::default()
    });
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].exception, "panic: boom");
    let all = store.traces(&TraceQuery::default());
    assert_eq!(all.iter().filter(|t| t.exception.is_empty()).count(), 1);
}

#[test]
fn a_log_record_is_found_by_its_id_with_its_resource_while_held() {
    let store = Store::new(Caps {
        logs: 2,
        ..Caps::default()
    });
    for body in ["first", "second", "third"] {
        store.ingest_logs(logs("api", vec![log(body, 9, None)]));
    }
    assert!(store.log(0).is_none(), "evicted");
    let third = store.log(2).expect("held");
    assert_eq!((third.id, third.body.as_str()), (2, "third"));
    assert_eq!(third.resource.len(), 1);
    assert_eq!(third.resource[0].value, "api");
    let listed = store.logs(&LogQuery::default());
    assert_eq!(listed.iter().map(|l| l.id).collect::<Vec<_>>(), [2, 1]);
    assert!(store.log(3).is_none());
}

#[test]
fn waiting_ends_when_an_export_brings_what_is_waited_for() {
    let store = Store::default();
    let arrives = |store: &Store| !store.traces(&TraceQuery::default()).is_empty();
    assert!(!store.wait_until(Duration::from_millis(20), arrives));
    let writer = store.clone();
    let export = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.ingest_traces(traces("late", vec![span(1, 1, None, "work")]));
    });
    assert!(store.wait_until(Duration::from_secs(10), arrives));
    export.join().unwrap();
}

/// `cargo otel dash` labels each run of a program on its resource.
#[test]
fn traces_and_logs_filter_by_run() {
    fn label(mut resource: Option<Resource>, run: Value) -> Option<Resource> {
        resource.as_mut().unwrap().attributes.push(KeyValue {
            key: crate::backend::model::RUN.into(),
            value: Some(AnyValue { value: Some(run) }),
            ..Default::default()
        });
        resource
    }
    let store = Store::default();
    let runs = [Value::StringValue("1".into()), Value::IntValue(2)];
    for (trace, run) in (1..).zip(runs) {
        let mut spans = traces("app", vec![span(trace, 1, None, &format!("run {trace}"))]);
        spans.resource_spans[0].resource = label(resource("app"), run.clone());
        store.ingest_spans(spans, None);
        let mut records = logs("app", vec![log(&format!("log {trace}"), 9, None)]);
        records.resource_logs[0].resource = label(resource("app"), run);
        store.ingest_logs(records);
    }
    let second = store.traces(&TraceQuery {
        run: Some(2),
        ..Default::default()
    });
    assert_eq!(
        second
            .iter()
            .map(|t| t.root_name.as_str())
            .collect::<Vec<_>>(),
        ["run 2"]
    );
    let first = store.logs(&LogQuery {
        run: Some(1),
        ..Default::default()
    });
    assert_eq!(
        first.iter().map(|l| l.body.as_str()).collect::<Vec<_>>(),
        ["log 1"]
    );
    assert!(
        store
            .traces(&TraceQuery {
                run: Some(3),
                ..Default::default()
            })
            .is_empty()
    );
}

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

#[test]
fn attribute_filters_read_key_operator_and_value() {
    let parse = |text: &str| AttrFilter::parse(text);
    for bad in ["", "no-operator", "=value", " !=x"] {
        assert_eq!(parse(bad), None, "{bad}");
    }
    let list = [attribute("http.route", "/Checkout")];
    let passes = |text: &str| parse(text).unwrap().matches(&[&list]);
    assert!(passes("http.route=/Checkout"));
    assert!(!passes("http.route=/checkout"));
    assert!(passes("http.route!=/cart"));
    assert!(!passes("http.route!=/Checkout"));
    assert!(passes("http.route~CHECK"));
    assert!(!passes("other!=x"), "a missing key passes no operator");
}

#[test]
fn traces_filter_by_attribute_and_duration_and_page() {
    let store = Store::default();
    for t in 1..=5u8 {
        let mut root = span(t, 1, None, "work");
        root.end_time_unix_nano = root.start_time_unix_nano + u64::from(t) * 1_000_000;
        root.attributes = vec![attribute("tenant", if t % 2 == 0 { "even" } else { "odd" })];
        store.ingest_traces(traces("svc", vec![root]));
    }
    let ids = |query: TraceQuery| -> Vec<String> {
        store
            .traces(&query)
            .into_iter()
            .map(|t| t.trace_id[..2].to_owned())
            .collect()
    };
    let attr = |text: &str| TraceQuery {
        attr: Some(text.into()),
        ..TraceQuery::default()
    };
    assert_eq!(ids(attr("tenant=even")), ["04", "02"]);
    assert_eq!(ids(attr("tenant!=even")), ["05", "03", "01"]);
    assert_eq!(
        ids(attr("service.name=svc")).len(),
        5,
        "resource attributes count"
    );
    let durations = TraceQuery {
        min_duration_ms: Some(2.0),
        max_duration_ms: Some(4.0),
        ..TraceQuery::default()
    };
    assert_eq!(ids(durations), ["04", "03", "02"]);
    let page = TraceQuery {
        limit: Some(2),
        offset: Some(2),
        ..TraceQuery::default()
    };
    assert_eq!(ids(page), ["03", "02"]);
}

#[test]
fn clearing_a_service_takes_its_traces_logs_and_series_only() {
    let store = Store::default();
    store.ingest_traces(traces("a", vec![span(1, 1, None, "a-root")]));
    store.ingest_traces(traces("b", vec![span(2, 1, None, "b-root")]));
    store.ingest_logs(logs("a", vec![log("from a", 9, None)]));
    store.ingest_logs(logs("b", vec![log("from b", 9, None)]));
    store.ingest_metrics(counter(1, 10));
    let before = store.summary();
    store.clear(Some("a"));
    let after = store.summary();
    assert_eq!(
        after.services,
        before
            .services
            .iter()
            .filter(|s| *s != "a")
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!((after.held.traces, after.held.logs), (1, 1));
    assert_eq!(store.logs(&LogQuery::default())[0].body, "from b");
    store.clear(None);
    let empty = store.summary();
    assert_eq!(empty.held, Counts::default());
    assert_eq!(empty.memory.held_bytes, 0, "every byte is given back");
    assert!(empty.services.is_empty());
    store.ingest_traces(traces("a", vec![span(3, 1, None, "again")]));
    assert_eq!(store.summary().held.traces, 1);
}

#[test]
fn held_traces_export_as_the_requests_they_came_in() {
    let store = Store::default();
    store.ingest_traces(traces(
        "a",
        vec![span(1, 1, None, "root"), span(1, 2, Some(1), "child")],
    ));
    let request = store.export_trace(&hex(&[1; 16])).expect("held");
    assert_eq!(request.resource_spans.len(), 1);
    let resource = request.resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(service_name(Some(resource)), "a");
    assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 2);
    assert_eq!(store.export_trace(&hex(&[9; 16])), None);
    let all = store.export_traces(&TraceQuery::default());
    assert_eq!(all, request);
}

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
        trace_id: Some(render::hex(&[7; 16])),
        q: Some("DISK".into()),
        ..Default::default()
    });
    assert_eq!(in_trace.len(), 1);
}

#[test]
fn caps_evict_the_oldest_and_count_it() {
    let caps = Caps {
        traces: 2,
        spans: 100,
        logs: 3,
        metric_points: 4,
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

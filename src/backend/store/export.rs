//! Held records back as OTLP export requests (the `--save` file's format),
//! grouped again by the resource and scope they arrived under.

use std::{collections::HashMap, sync::Arc};

use opentelemetry_proto::tonic::{
    collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
    logs::v1::{ResourceLogs, ScopeLogs},
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans},
};

use super::{LogRecordEntry, SpanRecord};

pub(super) fn traces<'a>(spans: impl Iterator<Item = &'a SpanRecord>) -> ExportTraceServiceRequest {
    let groups = grouped(spans.map(|r| (&r.resource, &r.scope, r.span.clone())));
    let resource_spans = groups.into_iter().map(|(resource, scopes)| ResourceSpans {
        resource: Some(resource),
        scope_spans: scopes
            .into_iter()
            .map(|(scope, spans)| ScopeSpans {
                scope: Some(scope),
                spans,
                schema_url: String::new(),
            })
            .collect(),
        schema_url: String::new(),
    });
    ExportTraceServiceRequest {
        resource_spans: resource_spans.collect(),
    }
}

pub(super) fn logs<'a>(
    entries: impl Iterator<Item = &'a LogRecordEntry>,
) -> ExportLogsServiceRequest {
    let groups = grouped(entries.map(|e| (&e.resource, &e.scope, e.record.clone())));
    let resource_logs = groups.into_iter().map(|(resource, scopes)| ResourceLogs {
        resource: Some(resource),
        scope_logs: scopes
            .into_iter()
            .map(|(scope, log_records)| ScopeLogs {
                scope: Some(scope),
                log_records,
                schema_url: String::new(),
            })
            .collect(),
        schema_url: String::new(),
    });
    ExportLogsServiceRequest {
        resource_logs: resource_logs.collect(),
    }
}

/// Records by resource, then by scope.
type Grouped<S, T> = Vec<(Resource, Vec<(S, Vec<T>)>)>;

/// Records grouped by the (shared) resource and scope they came with, in
/// the order each group was first seen.
fn grouped<'a, R, S: Clone + 'a, T>(
    records: impl Iterator<Item = (&'a Arc<R>, &'a Arc<S>, T)>,
) -> Grouped<S, T>
where
    R: AsRef<[opentelemetry_proto::tonic::common::v1::KeyValue]> + 'a,
{
    let mut resources: Grouped<S, T> = Vec::new();
    let mut at: HashMap<(*const R, *const S), (usize, usize)> = HashMap::new();
    let mut resource_at: HashMap<*const R, usize> = HashMap::new();
    for (resource, scope, record) in records {
        let key = (Arc::as_ptr(resource), Arc::as_ptr(scope));
        let (r, s) = *at.entry(key).or_insert_with(|| {
            let r = *resource_at.entry(key.0).or_insert_with(|| {
                let attributes = resource.as_ref().as_ref().to_vec();
                resources.push((
                    Resource {
                        attributes,
                        ..Resource::default()
                    },
                    Vec::new(),
                ));
                resources.len() - 1
            });
            let scopes = &mut resources[r].1;
            scopes.push((scope.as_ref().clone(), Vec::new()));
            (r, scopes.len() - 1)
        });
        resources[r].1[s].1.push(record);
    }
    resources
}

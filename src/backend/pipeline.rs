//! What happens to each export request: saved (with `--save`), stored, and
//! announced in the terminal feed.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::{
    logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
    trace::v1::ExportTraceServiceRequest,
};

use super::Sink;
use super::{Store, feed::Feed, save::SaveFile};

pub(crate) struct Pipeline {
    pub(crate) store: Store,
    pub(crate) feed: Option<Feed>,
    pub(crate) save: Option<Arc<SaveFile>>,
}

impl Sink for Pipeline {
    fn traces(&self, request: ExportTraceServiceRequest) {
        if let Some(save) = &self.save {
            save.write(&request);
        }
        match &self.feed {
            Some(feed) => feed.spans(&self.store.ingest_traces(request)),
            None => self.store.ingest_spans(request, None),
        }
    }

    fn metrics(&self, request: ExportMetricsServiceRequest) {
        if let Some(save) = &self.save {
            save.write(&request);
        }
        self.store.ingest_metrics(request);
    }

    fn logs(&self, request: ExportLogsServiceRequest) {
        if let Some(save) = &self.save {
            save.write(&request);
        }
        let notable = self.store.ingest_logs(request);
        if let Some(feed) = &self.feed {
            feed.logs(&notable);
        }
    }
}

/// The store alone: no feed, no save file.
impl Sink for Store {
    fn traces(&self, request: ExportTraceServiceRequest) {
        self.ingest_spans(request, None);
    }

    fn metrics(&self, request: ExportMetricsServiceRequest) {
        self.ingest_metrics(request);
    }

    fn logs(&self, request: ExportLogsServiceRequest) {
        self.ingest_logs(request);
    }
}

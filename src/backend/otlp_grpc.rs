//! OTLP/gRPC on the backend's port: the collector services (plain or gzip)
//! within [`Connections`]. Idle clients are pinged, so an exporter that
//! keeps its channel open between batches keeps it; a connection that
//! answers nothing is closed after the idle timeout, and an export must
//! arrive whole within the body timeout.

use std::sync::Arc;

use anyhow::Context as _;
use futures_util::stream;
use tokio::sync::watch;
use tonic::transport::Server;

use super::{Sink, collector::services};
use super::{limits::Connections, listen::Listener};

/// Serves until `stop` turns true, then lets open connections finish. The
/// caller bounds that wait.
pub(super) async fn serve(
    listener: Listener,
    sink: Arc<dyn Sink>,
    api_key: Option<&str>,
    limits: Connections,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (traces, metrics, logs) = services(sink, api_key, true);
    // Never ends and never fails: `accept` waits out both.
    let incoming = stream::unfold(listener, |listener| async move {
        let io = listener.accept().await;
        Some((Ok::<_, std::io::Error>(io), listener))
    });
    Server::builder()
        .timeout(limits.body_timeout)
        .http2_keepalive_interval(Some(limits.ping_interval))
        // A client whose runtime is busy may answer late; one that answers
        // nothing is closed by the idle timeout all the same.
        .http2_keepalive_timeout(Some(limits.idle_timeout))
        .add_service(traces)
        .add_service(metrics)
        .add_service(logs)
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = stop.wait_for(|&stop| stop).await;
        })
        .await
        .context("the OTLP/gRPC server failed")
}

[generated: otel.rs +axum]

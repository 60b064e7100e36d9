[generated: otel.rs]
// tuned by hand

[generated: otel.rs]

[generated: otel.rs +log]

[generated: otel.rs +actix_web]

[generated: otel.rs +tonic]

[generated: otel.rs +reqwest]

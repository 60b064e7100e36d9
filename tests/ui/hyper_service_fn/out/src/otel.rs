[generated: otel.rs +hyper +hyper_service]

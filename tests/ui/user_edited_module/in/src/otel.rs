[generated: otel.rs]

// Our own helper, added by hand.
pub fn service() -> &'static str {
    "demo"
}

use opentelemetry::trace::TracerProvider as _;

fn main() {
    let provider = opentelemetry_sdk::trace::TracerProvider::builder().build();
    let _tracer = provider.tracer("legacy");
    // opentelemetry::global::shutdown_tracer_provider() was called here once.
    println!("legacy ran");
}

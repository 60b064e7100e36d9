mod logging;

fn main() {
    logging::init_log();
    tracing::info!(target: "tool", "ready");
}

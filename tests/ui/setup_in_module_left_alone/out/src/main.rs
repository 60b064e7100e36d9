mod setup;

fn main() {
    setup::logging();
    log::info!("started");
}

#[cfg(feature = "json-logs")]
mod json;

fn main() {
    tracing::info!("showing a page");
    println!("page 1");
}

pub fn area(width: f64, height: f64) -> f64 {
    tracing::info!(width, height, "computing an area");
    width * height
}

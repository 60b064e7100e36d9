//! Setups written for template v2, whose `init*` returned a `Result`.

pub fn providers() -> std::io::Result<()> {
    let _otel = crate::otel::init_providers()?;
    Ok(())
}

pub fn optional() {
    if let Ok(otel) = crate::otel::init_without_console() {
        drop(otel);
    }
}

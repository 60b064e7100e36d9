use anyhow::{Context, Result};

mod otel;

fn main() -> Result<()> {
    let _otel = otel::init();
    let _run = otel::run_span();
    otel::main_result(main_body())
}

fn main_body() -> Result<()> {
    let text = std::fs::read_to_string("input.txt").context("reading input")?;
    println!("{}", text.len());
    Ok(())
}

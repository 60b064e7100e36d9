use anyhow::{Context, Result};

fn main() -> Result<()> {
    let text = std::fs::read_to_string("input.txt").context("reading input")?;
    println!("{}", text.len());
    Ok(())
}

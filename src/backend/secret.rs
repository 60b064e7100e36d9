//! Random secrets for the browser token and the OTLP API key.

use anyhow::Context as _;

/// 128 random bits as 32 lowercase hex characters, like the tokens the
/// Aspire dashboard generates.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).context("failed to read random bytes from the operating system")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

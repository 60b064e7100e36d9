//! Secrets: random browser tokens and OTLP API keys, and comparing them.

use anyhow::Context as _;

/// 128 random bits as 32 lowercase hex characters, like the tokens the
/// Aspire dashboard generates.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).context("failed to read random bytes from the operating system")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares without stopping at the first difference, so response times do
/// not reveal how much of a guessed secret was right. (The length is not
/// secret.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_hex_and_compare_whole() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert!(a.len() == 32 && a.bytes().all(|c| c.is_ascii_hexdigit()) && a != b);
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(
            !constant_time_eq(b"secret", b"secreT") && !constant_time_eq(b"secret", b"secret2")
        );
        assert!(constant_time_eq(b"", b"") && !constant_time_eq(b"", b"x"));
    }
}

//! Secrets: random browser tokens and OTLP API keys, and comparing them.

use anyhow::Context as _;

/// The HTTP header (gRPC metadata key) that carries the OTLP API key: the
/// Aspire dashboard's name for it, which the built-in dashboard shares.
pub const API_KEY_HEADER: &str = "x-otlp-api-key";

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

/// Why `key` cannot be an OTLP API key, if it cannot. Exporters send it as
/// an HTTP header or gRPC metadata value: it must be printable ASCII, and
/// without spaces at either end (which HTTP drops). An empty key would let
/// every request in.
pub fn check_api_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the OTLP API key must not be empty".to_owned());
    }
    if let Some(bad) = key.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "the OTLP API key must be printable ASCII, not {:?}",
            bad.to_string()
        ));
    }
    if key.trim() != key {
        return Err("the OTLP API key must not start or end with a space".to_owned());
    }
    Ok(())
}

/// `key` as a value of `OTEL_EXPORTER_OTLP_HEADERS`, whose SDKs split the
/// list at commas and percent-decode each value.
pub fn header_list_value(key: &str) -> String {
    key.replace('%', "%25").replace(',', "%2C")
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

    #[test]
    fn an_api_key_is_printable_ascii_and_never_empty() {
        assert!(check_api_key("").unwrap_err().contains("must not be empty"));
        assert!(
            check_api_key("a\nb")
                .unwrap_err()
                .contains("printable ASCII")
        );
        assert!(
            check_api_key("ключ")
                .unwrap_err()
                .contains("printable ASCII")
        );
        assert!(check_api_key(" key").is_err() && check_api_key("key ").is_err());
        assert!(check_api_key("$(touch pwned) 'quoted' \"x\"").is_ok());
        assert_eq!(header_list_value("a,b%c"), "a%2Cb%25c");
    }
}

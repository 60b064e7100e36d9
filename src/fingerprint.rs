//! A stable 64-bit fingerprint (FNV-1a): the same on every platform and Rust
//! version, unlike `DefaultHasher`, so it can be written to files and names.

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

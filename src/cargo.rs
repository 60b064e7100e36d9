//! Running cargo: the one that ran us (`cargo otel` sets `CARGO`), else the
//! one on PATH, so a toolchain chosen with `cargo +nightly otel` builds and
//! resolves too.

use std::process::Command;

/// A `cargo` command, without arguments yet.
pub fn command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

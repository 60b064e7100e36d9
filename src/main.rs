//! `cargo-otel`: parse the command line, run the command, turn the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cargo_otel::cli::parse(std::env::args_os());
    let (shell, command) = cli.into_parts();
    match cargo_otel::run(&shell, command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            shell.error(&error);
            ExitCode::from(cargo_otel::EXIT_FAILURE)
        }
    }
}

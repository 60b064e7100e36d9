//! cargo-otel: OpenTelemetry for a Rust crate in one command.
//!
//! The binary is thin: [`cli`] turns arguments into plain option structs and
//! each command runs as `ops::<command>::run(shell, options)`. Everything the
//! user sees goes through one [`Shell`].
//!
//! Below `ops` are the libraries the commands share, and nothing there
//! imports a command (`layers.rs` tests it); README.md's "How it is built"
//! maps every module.

pub mod analysis;
pub mod backend;
pub mod cargo;
pub mod changeset;
pub mod cli;
pub mod codegen;
pub mod detect;
pub mod docker;
pub mod doctor;
pub mod fingerprint;
mod layers;
pub mod manifest;
pub mod ops;
pub mod paths;
pub mod ports;
pub mod project;
pub mod secret;
pub mod shell;
pub mod signals;
pub mod wiring;

pub use shell::Shell;

/// Exit code for a command that failed; the reason is on stderr.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for an invalid command line (clap's own convention).
pub const EXIT_USAGE: u8 = 2;

/// A command with its options, ready to run.
#[derive(Debug)]
pub enum Command {
    Init(ops::init::InitOptions),
    Serve(ops::serve::ServeOptions),
    Dash(ops::dash::DashOptions),
    Doctor(ops::doctor::DoctorOptions),
    Traces(ops::query::TracesOptions),
    Trace(ops::query::TraceOptions),
    Logs(ops::query::LogsOptions),
    Metrics(ops::query::MetricsOptions),
    Mcp(ops::mcp::McpOptions),
}

/// Runs one command; returns the exit code (`dash` passes on the program's).
pub fn run(shell: &Shell, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Init(options) => ops::init::run(shell, &options).map(|()| 0),
        Command::Serve(options) => ops::serve::run(shell, &options).map(|()| 0),
        Command::Dash(options) => ops::dash::run(shell, &options),
        Command::Doctor(options) => ops::doctor::run(shell, &options),
        Command::Traces(options) => ops::query::traces(shell, &options).map(|()| 0),
        Command::Trace(options) => ops::query::trace(shell, &options).map(|()| 0),
        Command::Logs(options) => ops::query::logs(shell, &options).map(|()| 0),
        Command::Metrics(options) => ops::query::metrics(shell, &options).map(|()| 0),
        Command::Mcp(options) => ops::mcp::run(&options).map(|()| 0),
    }
}

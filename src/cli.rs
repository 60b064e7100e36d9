//! The command line. clap types stop here: [`Cli::into_parts`] turns them into
//! a [`Shell`] and a plain [`Command`].

use std::{ffi::OsString, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{Command, Shell, ops::init::InitOptions, shell::Verbosity};

/// Cargo runs `cargo-otel otel <args>`; this wrapper makes that parse as `cargo otel <args>`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo::style::CLAP_STYLING)]
pub enum Cli {
    /// Add OpenTelemetry to a Rust crate and see its traces, metrics and logs
    #[command(version, arg_required_else_help = true)]
    Otel(OtelArgs),
}

#[derive(Debug, Args)]
pub struct OtelArgs {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: OtelCommand,
}

/// Flags every command takes, spelled as cargo spells them.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Path to Cargo.toml
    #[arg(
        long,
        value_name = "PATH",
        global = true,
        help_heading = "Manifest Options"
    )]
    manifest_path: Option<PathBuf>,
    /// Package to instrument
    #[arg(
        short,
        long,
        value_name = "SPEC",
        global = true,
        help_heading = "Package Selection"
    )]
    package: Option<String>,
    /// Coloring
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorWhen::Auto,
          env = "CARGO_TERM_COLOR", hide_env_values = true, global = true)]
    color: ColorWhen,
    /// Do not print cargo-otel log messages
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Use verbose output
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum OtelCommand {
    /// Add OpenTelemetry to a package: dependencies, an `otel` module, the call
    /// in `main` and a compose file for the Aspire dashboard
    Init(InitArgs),
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Binary whose `main` to instrument (when the package has several)
    #[arg(long, value_name = "NAME", help_heading = "Target Selection")]
    bin: Option<String>,
    /// Print the changes as a diff and write nothing
    #[arg(short = 'n', long)]
    dry_run: bool,
    /// Replace what init would otherwise keep: incompatible OpenTelemetry
    /// versions, an edited `otel.rs`, an existing compose file
    #[arg(long)]
    force: bool,
}

/// Parses `args`, exiting with clap's message on a bad command line.
///
/// Besides `cargo otel <cmd>` (cargo passes `otel` on) and `cargo-otel otel
/// <cmd>`, a bare `cargo-otel <cmd>` is accepted too.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Cli {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|arg| arg != "otel") {
        args.insert(1.min(args.len()), "otel".into());
    }
    match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                crate::EXIT_USAGE
            } else {
                0
            };
            let _ = error.print();
            std::process::exit(code.into());
        }
    }
}

impl Cli {
    /// The output settings and the command to run.
    pub fn into_parts(self) -> (Shell, Command) {
        let Cli::Otel(args) = self;
        let global = args.global;
        let verbosity = match (global.quiet, global.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, _) => Verbosity::Verbose,
        };
        let shell = Shell::new(global.color.into(), verbosity);
        let command = match args.command {
            OtelCommand::Init(init) => Command::Init(InitOptions {
                manifest_path: global.manifest_path,
                package: global.package,
                bin: init.bin,
                dry_run: init.dry_run,
                force: init.force,
            }),
        };
        (shell, command)
    }
}

impl From<ColorWhen> for colorchoice::ColorChoice {
    fn from(when: ColorWhen) -> Self {
        match when {
            ColorWhen::Auto => Self::Auto,
            ColorWhen::Always => Self::Always,
            ColorWhen::Never => Self::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn verify_app() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cargo_and_direct_invocations_parse_alike() {
        for args in [
            &["cargo-otel", "otel", "init", "--dry-run"][..],
            &["cargo-otel", "init", "--dry-run"][..],
        ] {
            let (_, command) = parse(args.iter().map(OsString::from)).into_parts();
            let Command::Init(options) = command;
            assert!(options.dry_run);
        }
    }
}

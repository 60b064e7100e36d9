//! The command line. clap types stop here: [`Cli::into_parts`] turns them into
//! a [`Shell`] and a plain [`Command`].

use std::{ffi::OsString, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    Command, Shell,
    backend::Caps,
    docker::PullPolicy,
    doctor::Group,
    ops::{
        dash::{BackendChoice, BuildFlags, DashOptions, WaitPort},
        doctor::{self, DoctorOptions, Format},
        init::InitOptions,
        serve::ServeOptions,
    },
    shell::Verbosity,
};

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
    /// Package to instrument or run
    #[arg(
        short,
        long,
        value_name = "SPEC",
        global = true,
        help_heading = "Package Selection"
    )]
    package: Vec<String>,
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
    /// Build and run a program with its traces, metrics and logs shown in a dashboard
    Dash(DashArgs),
    /// Run the built-in telemetry backend (OTLP receiver and web view) on its own
    Serve(ServeArgs),
    /// Find and explain every reason telemetry does not arrive: project,
    /// environment, backend, and a real round trip (exit 1 on any error)
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
struct DoctorArgs {
    /// Binary whose `main` to check (when the package has several)
    #[arg(long, value_name = "NAME", help_heading = "Target Selection")]
    bin: Option<String>,
    /// Report format: `human` (grouped, coloured) or `json` (stable schema)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = FormatArg::Human)]
    format: FormatArg,
    /// Apply the safe fixes (versions, wiring of `main`, an untouched
    /// module), then check again
    #[arg(long)]
    fix: bool,
    /// With --fix: print the changes as a diff and write nothing
    #[arg(short = 'n', long, requires = "fix")]
    dry_run: bool,
    /// Send the round trip here instead of the program's effective endpoint
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// How long each round-trip export may take, e.g. `5s`, `500ms` [default:
    /// OTEL_EXPORTER_OTLP_TIMEOUT if set, else 5s]
    #[arg(long, value_name = "DURATION", value_parser = doctor::parse_timeout)]
    timeout: Option<std::time::Duration>,
    /// Leave out a group of checks (they are reported as skipped)
    #[arg(long, value_enum, value_name = "GROUP")]
    skip: Vec<GroupArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GroupArg {
    Project,
    Environment,
    Tls,
    Backend,
    RoundTrip,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Json,
}

#[derive(Debug, Args)]
struct DashArgs {
    /// Run this binary
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Target Selection",
        conflicts_with = "example"
    )]
    bin: Option<String>,
    /// Run this example
    #[arg(long, value_name = "NAME", help_heading = "Target Selection")]
    example: Option<String>,
    /// Build in release mode
    #[arg(short, long)]
    release: bool,
    /// Space or comma separated list of features to activate
    #[arg(
        short = 'F',
        long,
        value_name = "FEATURES",
        help_heading = "Feature Selection"
    )]
    features: Vec<String>,
    /// Activate all available features
    #[arg(long, help_heading = "Feature Selection")]
    all_features: bool,
    /// Do not activate the `default` feature
    #[arg(long, help_heading = "Feature Selection")]
    no_default_features: bool,
    /// Where the telemetry goes: `docker` (the Aspire dashboard container) or
    /// `local` (the dashboard built into cargo-otel) [default: docker when a
    /// Docker daemon answers, else local]
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// The dashboard image [default: `metadata.otel.image`, else
    /// mcr.microsoft.com/dotnet/aspire-dashboard:13]
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// When to pull the image
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = PullArg::Missing)]
    pull: PullArg,
    /// Keep the dashboard after the program exits: the container for the next
    /// run, the built-in one until Ctrl-C (its default at a terminal)
    #[arg(long)]
    keep: bool,
    /// Only start (or reuse) the dashboard container, and leave it running
    #[arg(long, conflicts_with_all = ["stop", "app_args"])]
    detach: bool,
    /// With --detach: print the environment to export on stdout
    #[arg(long, requires = "detach")]
    print_env: bool,
    /// Remove this workspace's dashboard container
    #[arg(long, conflicts_with = "app_args")]
    stop: bool,
    /// Open the dashboard in the browser
    #[arg(long)]
    open: bool,
    /// Let anyone on this machine in: no browser token, no OTLP API key
    #[arg(long)]
    anonymous: bool,
    #[command(flatten)]
    ports: PortArgs,
    /// Run the binary of every workspace member that has one, side by side
    /// (as does `-p` given more than once)
    #[arg(long, help_heading = "Package Selection", conflicts_with_all = ["bin", "example"])]
    workspace: bool,
    /// With several packages: start PACKAGE first and wait until 127.0.0.1:PORT
    /// accepts connections before starting the next ones (repeatable, in order)
    #[arg(
        long,
        value_name = "PACKAGE=PORT",
        value_parser = parse_wait_port,
        help_heading = "Package Selection"
    )]
    wait_port: Vec<WaitPort>,
    /// Arguments for the program
    #[arg(last = true, value_name = "ARGS")]
    app_args: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Docker,
    Local,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PullArg {
    Missing,
    Always,
    Never,
}

/// The dashboard's ports on 127.0.0.1 (`dash` falls back to a free port
/// when a default one is taken).
#[derive(Debug, Args)]
struct PortArgs {
    /// OTLP/gRPC port [default: 4317] (0 picks a free one)
    #[arg(long, value_name = "PORT")]
    grpc_port: Option<u16>,
    /// OTLP/HTTP port [default: 4318] (0 picks a free one)
    #[arg(long, value_name = "PORT")]
    http_port: Option<u16>,
    /// Dashboard (web view) port [default: 18888] (0 picks a free one)
    #[arg(long, value_name = "PORT")]
    ui_port: Option<u16>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    ports: PortArgs,
    /// Let anyone on this machine in: no browser token, no OTLP API key
    #[arg(long)]
    anonymous: bool,
    /// Use this OTLP API key instead of a fresh random one
    #[arg(
        long,
        value_name = "KEY",
        conflicts_with = "anonymous",
        env = "CARGO_OTEL_API_KEY",
        hide_env_values = true,
        value_parser = parse_api_key
    )]
    api_key: Option<String>,
    /// Traces to keep before evicting the oldest
    #[arg(long, value_name = "N", default_value_t = Caps::default().traces)]
    max_traces: usize,
    /// Spans to keep (across all traces) before evicting the oldest trace
    #[arg(long, value_name = "N", default_value_t = Caps::default().spans)]
    max_spans: usize,
    /// Log records to keep before evicting the oldest
    #[arg(long, value_name = "N", default_value_t = Caps::default().logs)]
    max_logs: usize,
    /// Metric points to keep before evicting the oldest
    #[arg(long, value_name = "N", default_value_t = Caps::default().metric_points)]
    max_metric_points: usize,
    /// Memory the kept telemetry may take (e.g. `512MiB`, `2GiB`) before
    /// evicting the oldest [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<usize>,
    /// Write everything received to FILE as OTLP/JSON lines when stopped
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Mimic the Aspire dashboard container: ports 18888/18889/18890 on all
    /// interfaces, `Dashboard__*` settings from the environment (for images)
    #[arg(long, hide = true)]
    aspire_compat: bool,
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
    /// Do not look for web frameworks and clients (axum, actix-web, tonic,
    /// reqwest, hyper) to instrument
    #[arg(long)]
    no_detect: bool,
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
                package: single_package("init", global.package),
                bin: init.bin,
                dry_run: init.dry_run,
                force: init.force,
                no_detect: init.no_detect,
            }),
            OtelCommand::Serve(serve) => Command::Serve(serve.into_options()),
            OtelCommand::Doctor(doctor) => Command::Doctor(DoctorOptions {
                manifest_path: global.manifest_path,
                package: single_package("doctor", global.package),
                bin: doctor.bin,
                format: match doctor.format {
                    FormatArg::Human => Format::Human,
                    FormatArg::Json => Format::Json,
                },
                fix: doctor.fix,
                dry_run: doctor.dry_run,
                endpoint: doctor.endpoint,
                timeout: doctor.timeout,
                skip: doctor
                    .skip
                    .into_iter()
                    .map(|group| match group {
                        GroupArg::Project => Group::Project,
                        GroupArg::Environment => Group::Environment,
                        GroupArg::Tls => Group::Tls,
                        GroupArg::Backend => Group::Backend,
                        GroupArg::RoundTrip => Group::RoundTrip,
                    })
                    .collect(),
            }),
            OtelCommand::Dash(dash) => Command::Dash(DashOptions {
                manifest_path: global.manifest_path,
                packages: global.package,
                workspace: dash.workspace,
                wait_ports: dash.wait_port,
                bin: dash.bin,
                example: dash.example,
                build: BuildFlags {
                    release: dash.release,
                    features: dash.features,
                    all_features: dash.all_features,
                    no_default_features: dash.no_default_features,
                },
                backend: match dash.backend {
                    None => BackendChoice::Auto,
                    Some(BackendArg::Docker) => BackendChoice::Docker,
                    Some(BackendArg::Local) => BackendChoice::Local,
                },
                image: dash.image,
                pull: match dash.pull {
                    PullArg::Missing => PullPolicy::Missing,
                    PullArg::Always => PullPolicy::Always,
                    PullArg::Never => PullPolicy::Never,
                },
                keep: dash.keep,
                detach: dash.detach,
                print_env: dash.print_env,
                stop: dash.stop,
                open: dash.open,
                anonymous: dash.anonymous,
                grpc_port: dash.ports.grpc_port,
                http_port: dash.ports.http_port,
                ui_port: dash.ports.ui_port,
                app_args: dash.app_args,
            }),
        };
        (shell, command)
    }
}

/// `init` and `doctor` work on one package at a time (only `dash` takes
/// several); clap's own error otherwise.
fn single_package(command: &str, mut packages: Vec<String>) -> Option<String> {
    if packages.len() > 1 {
        use clap::CommandFactory as _;
        let mut cli = Cli::command();
        // Built, so the subcommand's usage line reads `cargo otel init ...`.
        cli.build();
        let mut sub = cli
            .find_subcommand_mut("otel")
            .and_then(|otel| otel.find_subcommand_mut(command))
            .cloned()
            .unwrap_or(cli);
        sub.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("`{command}` works on one package at a time; run it once per package"),
        )
        .exit();
    }
    packages.pop()
}

/// `back=8081`: the package to start first and the port that says it is ready.
fn parse_wait_port(value: &str) -> Result<WaitPort, String> {
    let (package, port) = value
        .split_once('=')
        .ok_or_else(|| format!("expected PACKAGE=PORT, found `{value}`"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| format!("`{port}` is not a port number (1-65535)"))?;
    if package.is_empty() {
        return Err(format!("expected PACKAGE=PORT, found `{value}`"));
    }
    Ok(WaitPort {
        package: package.to_owned(),
        port,
    })
}

/// `4096`, `64KiB`, `512MiB`, `2GiB` (also `KB`/`MB`/`GB`, in powers of
/// 1024 all the same, as cargo's and Docker's sizes are).
fn parse_size(value: &str) -> Result<usize, String> {
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown unit `{unit}`: use KiB, MiB or GiB")),
    };
    let number: usize = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a size like `512MiB`"))?;
    if number == 0 {
        return Err("the size must be more than 0".to_owned());
    }
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{value}` is more than this machine can address"))
}

/// An OTLP API key that exporters can send and that keeps others out.
fn parse_api_key(value: &str) -> Result<String, String> {
    crate::secret::check_api_key(value)?;
    Ok(value.to_owned())
}

impl ServeArgs {
    fn into_options(self) -> ServeOptions {
        ServeOptions {
            grpc_port: self.ports.grpc_port,
            http_port: self.ports.http_port,
            ui_port: self.ports.ui_port,
            anonymous: self.anonymous,
            api_key: self.api_key,
            caps: Caps {
                traces: self.max_traces,
                spans: self.max_spans,
                logs: self.max_logs,
                metric_points: self.max_metric_points,
                bytes: self.max_memory.unwrap_or(Caps::default().bytes),
            },
            save: self.save,
            aspire_compat: self.aspire_compat,
        }
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
            let Command::Init(options) = command else {
                panic!("not init")
            };
            assert!(options.dry_run);
        }
    }
}

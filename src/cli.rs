//! The command line. clap types stop here: [`Cli::into_parts`] turns them into
//! a [`Shell`] and a plain [`Command`].

use std::{ffi::OsString, path::PathBuf};

use clap::{
    ArgMatches, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum,
    parser::ValueSource,
};

use crate::{
    Command, Shell,
    backend::{Caps, Settings, client},
    docker::PullPolicy,
    doctor::Group,
    ops::{
        dash::{BackendChoice, BuildFlags, DashOptions, WaitPort},
        doctor::{self, DoctorOptions, Format},
        init::InitOptions,
        mcp::McpOptions,
        query::{Common, LogsOptions, MetricsOptions, TraceOptions, TracesOptions},
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

/// `--manifest-path`, for the commands that work on a package.
#[derive(Debug, Args)]
struct ManifestArgs {
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH", help_heading = "Manifest Options")]
    manifest_path: Option<PathBuf>,
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
    /// List the traces the built-in dashboard holds (newest last)
    Traces(TracesArgs),
    /// Show one trace: its spans as a tree, with durations, status and exceptions
    Trace(TraceArgs),
    /// Show the log records the built-in dashboard holds (newest last)
    Logs(LogsArgs),
    /// Show the latest value of each metric the built-in dashboard holds
    Metrics(MetricsArgs),
    /// Serve what the built-in dashboard holds to a coding agent: a Model
    /// Context Protocol server on stdin and stdout
    Mcp(McpArgs),
}

/// Which dashboard the query commands read.
#[derive(Debug, Args)]
#[command(next_help_heading = "Dashboard Selection")]
struct DashboardArgs {
    /// The dashboard's address, or the login link it printed [default: the
    /// one `serve` or `dash` started for this workspace, else the only one
    /// running]
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The dashboard's browser token (when `--url` does not carry it)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CARGO_OTEL_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

/// What every query command takes.
#[derive(Debug, Args)]
struct QueryArgs {
    /// Print JSON lines (one object per record) instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dashboard: DashboardArgs,
}

#[derive(Debug, Args)]
struct TracesArgs {
    /// Only traces with a span of this service
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only traces with an error or an exception
    #[arg(long)]
    errors: bool,
    /// Only traces that started this recently (e.g. `30s`, `5m`, `2h`, `1d`)
    #[arg(long, value_name = "AGE", value_parser = client::parse_age)]
    since: Option<std::time::Duration>,
    /// Only traces with this text in a span name or attribute value
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,
    /// Only traces of this run of `cargo otel dash --watch` (its number)
    #[arg(long, value_name = "N")]
    run: Option<u32>,
    /// At most this many (the newest)
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
    // Last: its heading would carry over to the flags after it.
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
struct TraceArgs {
    /// The trace's id (32 hex digits, as `cargo otel traces` lists them)
    #[arg(value_name = "ID")]
    trace_id: String,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
struct LogsArgs {
    /// Only records of this service
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only records of this level or above
    #[arg(long, value_enum, value_name = "LEVEL")]
    level: Option<LevelArg>,
    /// Only records emitted inside this trace
    #[arg(long = "trace", value_name = "ID")]
    trace_id: Option<String>,
    /// Only records with this text in the body or an attribute value
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,
    /// Only records this recent (e.g. `30s`, `5m`, `2h`, `1d`)
    #[arg(long, value_name = "AGE", value_parser = client::parse_age)]
    since: Option<std::time::Duration>,
    /// Only records of this run of `cargo otel dash --watch` (its number)
    #[arg(long, value_name = "N")]
    run: Option<u32>,
    /// At most this many (the newest) before following
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: usize,
    /// Keep printing records as they arrive (until Ctrl-C)
    #[arg(short, long)]
    follow: bool,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

#[derive(Debug, Args)]
struct MetricsArgs {
    /// Only metrics of this service
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only metrics with this text in their name
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
struct McpArgs {
    #[command(flatten)]
    dashboard: DashboardArgs,
}

#[derive(Debug, Args)]
struct DoctorArgs {
    /// Package to check
    // A list only so that a second `-p` gets the message `init` and `doctor`
    // share (see `single_package`).
    #[arg(short, long, value_name = "SPEC", help_heading = "Package Selection")]
    package: Vec<String>,
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
    #[command(flatten)]
    manifest: ManifestArgs,
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
    /// Package to run (more than once: side by side)
    #[arg(short, long, value_name = "SPEC", help_heading = "Package Selection")]
    package: Vec<String>,
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
    /// `local` (the dashboard built into cargo-otel) [default: local with a
    /// flag of the built-in dashboard, else docker when a Docker daemon
    /// answers, else local]
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
    /// Rebuild and rerun the program whenever its sources change, until
    /// Ctrl-C
    #[arg(long, conflicts_with_all = ["detach", "stop"])]
    watch: bool,
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
    #[command(flatten)]
    manifest: ManifestArgs,
    // Last: its heading would carry over to the flags after it.
    #[command(flatten)]
    built_in: BuiltInArgs,
    /// The built-in dashboard's flags given on the command line.
    #[arg(skip)]
    built_in_given: Vec<String>,
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
    #[command(flatten)]
    built_in: BuiltInArgs,
    /// Mimic the Aspire dashboard container: ports 18888/18889/18890 on all
    /// interfaces, `Dashboard__*` settings from the environment (for images)
    #[arg(long, hide = true)]
    aspire_compat: bool,
}

/// The built-in dashboard's own flags, for `serve` and `dash --backend
/// local` (the Aspire container takes none of them).
#[derive(Debug, Args)]
#[command(next_help_heading = "Built-in Dashboard")]
struct BuiltInArgs {
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
    /// Open a `--save` recording: hold FILE's telemetry from the start
    #[arg(long, value_name = "FILE")]
    load: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Package to instrument
    // A list only so that a second `-p` gets the message `init` and `doctor`
    // share (see `single_package`).
    #[arg(short, long, value_name = "SPEC", help_heading = "Package Selection")]
    package: Vec<String>,
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
    /// Example whose `main` to instrument; its crates go to
    /// [dev-dependencies]
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Target Selection",
        conflicts_with_all = ["bin", "lib"]
    )]
    example: Option<String>,
    /// Instrument the library target: adds OpenTelemetry to the library's
    /// [dependencies] and `pub mod otel` to it, even when it is published
    #[arg(long, help_heading = "Target Selection", conflicts_with = "bin")]
    lib: bool,
    #[command(flatten)]
    manifest: ManifestArgs,
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
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            let mut cli = Cli::from_arg_matches(&matches)?;
            cli.note_built_in_flags(&matches);
            Ok(cli)
        });
    match parsed {
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
        let shell = args.global.shell();
        let command = match args.command {
            OtelCommand::Init(init) => Command::Init(init.into_options()),
            OtelCommand::Serve(serve) => Command::Serve(serve.into_options()),
            OtelCommand::Doctor(doctor) => Command::Doctor(doctor.into_options()),
            OtelCommand::Dash(dash) => Command::Dash(dash.into_options()),
            OtelCommand::Traces(traces) => Command::Traces(traces.into_options()),
            OtelCommand::Trace(trace) => Command::Trace(trace.into_options()),
            OtelCommand::Logs(logs) => Command::Logs(logs.into_options()),
            OtelCommand::Metrics(metrics) => Command::Metrics(metrics.into_options()),
            OtelCommand::Mcp(mcp) => Command::Mcp(McpOptions {
                dashboard: mcp.dashboard.choice(),
            }),
        };
        (shell, command)
    }

    /// Which of `dash`'s built-in dashboard flags the command line has (a
    /// key from the environment does not ask for the built-in dashboard).
    fn note_built_in_flags(&mut self, matches: &ArgMatches) {
        let Cli::Otel(OtelArgs {
            command: OtelCommand::Dash(dash),
            ..
        }) = self
        else {
            return;
        };
        let Some(matches) = matches
            .subcommand_matches("otel")
            .and_then(|otel| otel.subcommand_matches("dash"))
        else {
            return;
        };
        let flags = BuiltInArgs::augment_args(clap::Command::new("built-in"));
        dash.built_in_given = flags
            .get_arguments()
            .filter(|arg| {
                matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            })
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect();
    }
}

impl GlobalArgs {
    fn shell(&self) -> Shell {
        let verbosity = match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, _) => Verbosity::Verbose,
        };
        Shell::new(self.color.into(), verbosity)
    }
}

impl InitArgs {
    fn into_options(self) -> InitOptions {
        InitOptions {
            manifest_path: self.manifest.manifest_path,
            package: single_package("init", self.package),
            bin: self.bin,
            example: self.example,
            lib: self.lib,
            dry_run: self.dry_run,
            force: self.force,
            no_detect: self.no_detect,
        }
    }
}

impl DoctorArgs {
    fn into_options(self) -> DoctorOptions {
        DoctorOptions {
            manifest_path: self.manifest.manifest_path,
            package: single_package("doctor", self.package),
            bin: self.bin,
            format: match self.format {
                FormatArg::Human => Format::Human,
                FormatArg::Json => Format::Json,
            },
            fix: self.fix,
            dry_run: self.dry_run,
            endpoint: self.endpoint,
            timeout: self.timeout,
            skip: self.skip.into_iter().map(GroupArg::group).collect(),
        }
    }
}

impl GroupArg {
    fn group(self) -> Group {
        match self {
            Self::Project => Group::Project,
            Self::Environment => Group::Environment,
            Self::Tls => Group::Tls,
            Self::Backend => Group::Backend,
            Self::RoundTrip => Group::RoundTrip,
        }
    }
}

impl DashArgs {
    fn into_options(self) -> DashOptions {
        let backend = self.backend_choice();
        DashOptions {
            manifest_path: self.manifest.manifest_path,
            packages: self.package,
            workspace: self.workspace,
            wait_ports: self.wait_port,
            bin: self.bin,
            example: self.example,
            build: BuildFlags {
                release: self.release,
                features: self.features,
                all_features: self.all_features,
                no_default_features: self.no_default_features,
            },
            backend,
            image: self.image,
            pull: match self.pull {
                PullArg::Missing => PullPolicy::Missing,
                PullArg::Always => PullPolicy::Always,
                PullArg::Never => PullPolicy::Never,
            },
            keep: self.keep,
            detach: self.detach,
            print_env: self.print_env,
            stop: self.stop,
            open: self.open,
            watch: self.watch,
            anonymous: self.anonymous,
            grpc_port: self.ports.grpc_port,
            http_port: self.ports.http_port,
            ui_port: self.ports.ui_port,
            settings: self.built_in.into_settings(),
            app_args: self.app_args,
        }
    }

    /// A flag of the built-in dashboard asks for it; with `--backend docker`
    /// it is a mistake.
    fn backend_choice(&self) -> BackendChoice {
        match (self.backend, self.built_in_given.first()) {
            (Some(BackendArg::Docker), Some(flag)) => usage_error(
                "dash",
                format!(
                    "`{flag}` is a flag of the built-in dashboard, and `--backend docker` runs the Aspire container\n\
                     help: use `--backend local`, or leave out `{flag}`"
                ),
            ),
            (Some(BackendArg::Docker), None) => BackendChoice::Docker,
            (Some(BackendArg::Local), _) | (None, Some(_)) => BackendChoice::Local,
            (None, None) => BackendChoice::Auto,
        }
    }
}

/// `init` and `doctor` work on one package at a time (only `dash` takes
/// several); clap's own error otherwise.
fn single_package(command: &str, mut packages: Vec<String>) -> Option<String> {
    if packages.len() > 1 {
        usage_error(
            command,
            format!("`{command}` works on one package at a time; run it once per package"),
        );
    }
    packages.pop()
}

/// Exits with clap's usage error for `cargo otel <command>`.
fn usage_error(command: &str, message: String) -> ! {
    let mut cli = Cli::command();
    // Built, so the subcommand's usage line reads `cargo otel init ...`.
    cli.build();
    let mut sub = cli
        .find_subcommand_mut("otel")
        .and_then(|otel| otel.find_subcommand_mut(command))
        .cloned()
        .unwrap_or(cli);
    sub.error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
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
            settings: self.built_in.into_settings(),
            aspire_compat: self.aspire_compat,
        }
    }
}

impl BuiltInArgs {
    fn into_settings(self) -> Settings {
        Settings {
            api_key: self.api_key,
            caps: Caps {
                traces: self.max_traces,
                spans: self.max_spans,
                logs: self.max_logs,
                metric_points: self.max_metric_points,
                bytes: self.max_memory.unwrap_or(Caps::default().bytes),
            },
            save: self.save,
            load: self.load,
        }
    }
}

impl DashboardArgs {
    fn choice(self) -> client::Choice {
        client::Choice {
            url: self.url,
            token: self.token,
        }
    }
}

impl QueryArgs {
    fn common(self) -> Common {
        Common {
            dashboard: self.dashboard.choice(),
            json: self.json,
        }
    }
}

impl TracesArgs {
    fn into_options(self) -> TracesOptions {
        TracesOptions {
            common: self.query.common(),
            service: self.service,
            errors: self.errors,
            since: self.since,
            grep: self.grep,
            run: self.run,
            limit: self.limit,
        }
    }
}

impl TraceArgs {
    fn into_options(self) -> TraceOptions {
        TraceOptions {
            common: self.query.common(),
            trace_id: self.trace_id,
        }
    }
}

impl LogsArgs {
    fn into_options(self) -> LogsOptions {
        LogsOptions {
            common: self.query.common(),
            service: self.service,
            level: self.level.map(|level| {
                let name = level.to_possible_value().expect("no skipped levels");
                name.get_name().to_owned()
            }),
            trace_id: self.trace_id,
            grep: self.grep,
            since: self.since,
            run: self.run,
            limit: self.limit,
            follow: self.follow,
        }
    }
}

impl MetricsArgs {
    fn into_options(self) -> MetricsOptions {
        MetricsOptions {
            common: self.query.common(),
            service: self.service,
            grep: self.grep,
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

    #[test]
    fn a_flag_of_the_built_in_dashboard_chooses_it() {
        let backend = |args: &[&str]| {
            let args = ["cargo-otel", "dash"]
                .iter()
                .chain(args)
                .map(OsString::from);
            let (_, command) = parse(args).into_parts();
            let Command::Dash(options) = command else {
                panic!("not dash")
            };
            options.backend
        };
        assert_eq!(backend(&[]), BackendChoice::Auto);
        assert_eq!(backend(&["--save", "run.jsonl"]), BackendChoice::Local);
        assert_eq!(
            backend(&["--backend", "local", "--max-traces", "5"]),
            BackendChoice::Local
        );
        assert_eq!(backend(&["--backend", "docker"]), BackendChoice::Docker);
    }
}

//! Building the program to run: `cargo build` with the user's flags, its
//! diagnostics shown as cargo renders them, the executable read from its
//! JSON messages (the path depends on profile, target dir and platform).

use std::{
    ffi::OsString,
    io::BufReader,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
};

use anyhow::{Context as _, bail};
use cargo_metadata::{Message, TargetKind};

use crate::project::Target;

/// The user's build flags, passed through to cargo.
#[derive(Debug, Default, Clone)]
pub struct BuildFlags {
    pub release: bool,
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

/// A program to build: its package and its binary or example.
#[derive(Debug, Clone)]
pub(super) struct Program {
    pub package: String,
    pub target: Target,
}

impl Program {
    fn kind_and_name(&self) -> anyhow::Result<(TargetKind, &str)> {
        match &self.target {
            Target::Bin { name, .. } => Ok((TargetKind::Bin, name)),
            Target::Example { name, .. } => Ok((TargetKind::Example, name)),
            Target::Lib { .. } => bail!(
                "package `{}` is a library: there is no program to run\nhelp: run a binary or example that uses it (`--bin`, `--example`, `-p`)",
                self.package
            ),
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub(super) enum Request {
    /// The programs found with `cargo metadata`, `-p package --bin name` each.
    Programs(Vec<Program>),
    /// The user's own `-p`/`--bin`/`--example`, passed on before `cargo
    /// metadata` has said which program they mean: cargo builds the same
    /// one (or, without `--bin`, every binary of the package, among them
    /// the one `dash` runs).
    Flags {
        package: Option<String>,
        bin: Option<String>,
        example: Option<String>,
    },
}

/// A program cargo built.
#[derive(Debug, Clone)]
pub(super) struct Artifact {
    kind: Vec<TargetKind>,
    name: String,
    executable: PathBuf,
}

/// Builds what `request` asks for with one `cargo build` (one lock on the
/// target directory, shared dependencies compiled once) and returns the
/// executables it reported; `None` when cargo failed (its errors are shown).
pub(super) fn build(
    manifest: &Path,
    request: &Request,
    flags: &BuildFlags,
    quiet: bool,
    cargo_pid: &AtomicU32,
) -> anyhow::Result<Option<Vec<Artifact>>> {
    let mut command = build_command(manifest, request, flags, quiet)?;
    // JSON messages on stdout for us; progress and rendered diagnostics on
    // stderr for the user, as `cargo run` shows them.
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("failed to run `cargo build`")?;
    cargo_pid.store(child.id(), Ordering::SeqCst);
    let stdout = child.stdout.take().expect("stdout is piped");
    let artifacts = artifacts_built(stdout);
    let status = child.wait().context("failed to wait for `cargo build`")?;
    cargo_pid.store(0, Ordering::SeqCst);
    match status.success() {
        true => artifacts.map(Some),
        false => Ok(None),
    }
}

/// The error for a build that failed.
pub(super) fn failed(programs: &[Program]) -> anyhow::Error {
    let names: Vec<String> = programs
        .iter()
        .filter_map(|p| p.target.program())
        .map(|name| format!("`{name}`"))
        .collect();
    anyhow::anyhow!(
        "could not build {} (cargo's errors are above)",
        names.join(", ")
    )
}

/// The executable of each of `programs`, in the same order.
pub(super) fn executables(
    artifacts: &[Artifact],
    programs: &[Program],
) -> anyhow::Result<Vec<PathBuf>> {
    programs
        .iter()
        .map(|program| {
            let (kind, name) = program.kind_and_name()?;
            let found = artifacts
                .iter()
                .find(|a| a.name == name && a.kind.contains(&kind));
            found
                .map(|a| a.executable.clone())
                .with_context(|| format!("`cargo build` reported no executable for `{name}`"))
        })
        .collect()
}

/// `cargo build` of what `request` asks for, with the flags.
fn build_command(
    manifest: &Path,
    request: &Request,
    flags: &BuildFlags,
    quiet: bool,
) -> anyhow::Result<Command> {
    let mut command = crate::cargo::command();
    command
        .arg("build")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest);
    match request {
        Request::Programs(programs) => {
            for program in programs {
                let (kind, name) = program.kind_and_name()?;
                let flag = if kind == TargetKind::Bin {
                    "--bin"
                } else {
                    "--example"
                };
                command.args(["-p", &program.package, flag, name]);
            }
        }
        Request::Flags {
            package,
            bin,
            example,
        } => {
            let pairs = [("-p", package), ("--bin", bin), ("--example", example)];
            for (flag, value) in pairs {
                if let Some(value) = value {
                    command.args([flag, value]);
                }
            }
        }
    }
    command.args(flag_args(flags));
    if quiet {
        command.arg("--quiet");
    }
    Ok(command)
}

/// The executables among cargo's JSON messages.
fn artifacts_built(stdout: impl std::io::Read) -> anyhow::Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.context("failed to read cargo's build messages")?;
        if let Message::CompilerArtifact(artifact) = message
            && let Some(executable) = artifact.executable
        {
            artifacts.push(Artifact {
                kind: artifact.target.kind,
                name: artifact.target.name,
                executable: executable.into_std_path_buf(),
            });
        }
    }
    Ok(artifacts)
}

fn flag_args(flags: &BuildFlags) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if flags.release {
        args.push("--release".into());
    }
    if !flags.features.is_empty() {
        args.push("--features".into());
        args.push(flags.features.join(",").into());
    }
    if flags.all_features {
        args.push("--all-features".into());
    }
    if flags.no_default_features {
        args.push("--no-default-features".into());
    }
    args
}

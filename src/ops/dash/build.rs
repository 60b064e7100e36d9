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

/// Builds all `programs` with one `cargo build` (one lock on the target
/// directory, shared dependencies compiled once) and returns their
/// executables, in the same order.
pub(super) fn build(
    manifest: &Path,
    programs: &[Program],
    flags: &BuildFlags,
    quiet: bool,
    cargo_pid: &AtomicU32,
) -> anyhow::Result<Vec<PathBuf>> {
    let wanted = programs
        .iter()
        .map(Program::kind_and_name)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut command = build_command(manifest, programs, &wanted, flags, quiet);
    // JSON messages on stdout for us; progress and rendered diagnostics on
    // stderr for the user, as `cargo run` shows them.
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("failed to run `cargo build`")?;
    cargo_pid.store(child.id(), Ordering::SeqCst);
    let stdout = child.stdout.take().expect("stdout is piped");
    let executables = executables_built(stdout, &wanted)?;
    let status = child.wait().context("failed to wait for `cargo build`")?;
    cargo_pid.store(0, Ordering::SeqCst);
    if !status.success() {
        let names: Vec<String> = wanted.iter().map(|(_, name)| format!("`{name}`")).collect();
        bail!(
            "could not build {} (cargo's errors are above)",
            names.join(", ")
        );
    }
    executables
        .into_iter()
        .zip(&wanted)
        .map(|(executable, (_, name))| {
            executable.with_context(|| format!("`cargo build` reported no executable for `{name}`"))
        })
        .collect()
}

/// `cargo build` of each program (`-p package --bin name`) with the flags.
fn build_command(
    manifest: &Path,
    programs: &[Program],
    wanted: &[(TargetKind, &str)],
    flags: &BuildFlags,
    quiet: bool,
) -> Command {
    let mut command = crate::cargo::command();
    command
        .arg("build")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest);
    for (program, (kind, name)) in programs.iter().zip(wanted) {
        let flag = if *kind == TargetKind::Bin {
            "--bin"
        } else {
            "--example"
        };
        command.args(["-p", &program.package, flag, name]);
    }
    command.args(flag_args(flags));
    if quiet {
        command.arg("--quiet");
    }
    command
}

/// The executable of each `wanted` target, from cargo's JSON messages.
fn executables_built(
    stdout: impl std::io::Read,
    wanted: &[(TargetKind, &str)],
) -> anyhow::Result<Vec<Option<PathBuf>>> {
    let mut executables: Vec<Option<PathBuf>> = vec![None; wanted.len()];
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.context("failed to read cargo's build messages")?;
        if let Message::CompilerArtifact(artifact) = message {
            let found = wanted.iter().position(|(kind, name)| {
                artifact.target.name == *name && artifact.target.kind.contains(kind)
            });
            if let Some(index) = found {
                executables[index] = artifact.executable.map(|path| path.into_std_path_buf());
            }
        }
    }
    Ok(executables)
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

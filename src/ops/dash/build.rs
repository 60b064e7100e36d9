//! Building the program to run: `cargo build` with the user's flags, its
//! diagnostics shown as cargo renders them, the executable read from its
//! JSON messages (the path depends on profile, target dir and platform).

use std::{
    ffi::OsString,
    io::BufReader,
    path::{Path, PathBuf},
    process::{Command, Stdio},
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

/// Builds `target` of `package` and returns its executable.
pub(super) fn build(
    manifest: &Path,
    package: &str,
    target: &Target,
    flags: &BuildFlags,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let (kind, name) = match target {
        Target::Bin { name, .. } => (TargetKind::Bin, name),
        Target::Example { name, .. } => (TargetKind::Example, name),
        Target::Lib { .. } => bail!(
            "package `{package}` is a library: there is no program to run\nhelp: run a binary or example that uses it (`--bin`, `--example`, `-p`)"
        ),
    };
    let mut command = Command::new(cargo());
    command
        .arg("build")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest);
    command.args([
        "-p",
        package,
        if kind == TargetKind::Bin {
            "--bin"
        } else {
            "--example"
        },
        name,
    ]);
    command.args(flag_args(flags));
    if quiet {
        command.arg("--quiet");
    }
    // JSON messages on stdout for us; progress and rendered diagnostics on
    // stderr for the user, as `cargo run` shows them.
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("failed to run `cargo build`")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut executable = None;
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.context("failed to read cargo's build messages")?;
        if let Message::CompilerArtifact(artifact) = message
            && artifact.target.name == *name
            && artifact.target.kind.contains(&kind)
        {
            executable = artifact.executable.map(|path| path.into_std_path_buf());
        }
    }
    let status = child.wait().context("failed to wait for `cargo build`")?;
    if !status.success() {
        bail!("could not build `{name}` (cargo's errors are above)");
    }
    executable.with_context(|| format!("`cargo build` reported no executable for `{name}`"))
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

/// The cargo that ran us (`cargo otel` sets `CARGO`), else the one on PATH.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

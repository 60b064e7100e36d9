//! The stand-in for the Aspire dashboard image: this crate's `cargo-otel`,
//! linked statically (glibc, `crt-static`), alone in a `FROM scratch` image
//! whose entrypoint is `serve --aspire-compat`.

use std::{
    env,
    hash::Hasher as _,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use bollard::{Docker, body_full, query_parameters::CreateImageOptionsBuilder};
use futures_util::TryStreamExt as _;

use super::{ROLE_LABEL, TEST_LABEL, block_on, image_exists, images_labelled, remove_image};

/// Repository of the stand-in image; the tag is a hash of the binary.
pub(crate) const STAND_IN_REPOSITORY: &str = "cargo-otel-test/aspire-stand-in";
/// The image's entrypoint.
pub(crate) const ENTRYPOINT: [&str; 3] = ["/cargo-otel", "serve", "--aspire-compat"];
/// UI, OTLP/gRPC and OTLP/HTTP, as in the real image.
pub(crate) const DASHBOARD_PORTS: [u16; 3] = [18888, 18889, 18890];

/// Changes to what goes into the image, so an old tag is not reused for it.
const RECIPE: &str = "stand-in v1";

/// The stand-in image, present in the daemon.
#[derive(Debug, Clone)]
pub(crate) struct StandIn {
    /// `cargo-otel-test/aspire-stand-in:<hash of the binary>`.
    pub(crate) image: String,
    /// The static binary inside it.
    pub(crate) binary: PathBuf,
}

/// The stand-in image, built and imported once per test process; an image
/// from an earlier run with the same binary is reused, older ones removed.
pub(crate) fn stand_in_image(docker: &Docker) -> &'static StandIn {
    static STAND_IN: OnceLock<StandIn> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let binary = stand_in_binary();
        let bytes = std::fs::read(binary)
            .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", binary.display()));
        let image = format!("{STAND_IN_REPOSITORY}:{}", short_hash(&bytes));
        if image_exists(docker, &image) {
            println!("stand-in: reusing {image}");
        } else {
            let started = Instant::now();
            import(
                docker,
                &bytes,
                &image,
                &format!("{TEST_LABEL}=1 {ROLE_LABEL}=stand-in"),
            );
            println!(
                "stand-in: imported {image} in {:.1}s",
                started.elapsed().as_secs_f64()
            );
        }
        remove_older_stand_ins(docker, &image);
        StandIn {
            image,
            binary: binary.to_owned(),
        }
    })
}

/// `cargo-otel` built statically for this machine's Linux target, once per
/// test process. It lives in its own target directory under
/// `CARGO_TARGET_TMPDIR`, so later runs only rebuild what changed.
///
/// The profile is `dev` without debug info and stripped: a cold build takes
/// about a third of the time of `release` (measured 108 s against 335 s on
/// 2 cores) for a 25 MB binary instead of 15 MB, and a stand-in needs no speed.
pub(crate) fn stand_in_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_static_binary)
}

fn build_static_binary() -> PathBuf {
    if !cfg!(target_os = "linux") {
        panic!(
            "the stand-in image needs a static Linux build of cargo-otel; run the tests on Linux"
        );
    }
    let target = format!("{}-unknown-linux-gnu", env::consts::ARCH);
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aspire-stand-in");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--locked",
            "--bin",
            "cargo-otel",
            "--target",
            &target,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        // Its own target directory, so overriding `dev` changes nothing else.
        .args(["--config", "profile.dev.debug=0"])
        .args(["--config", "profile.dev.strip=true"])
        // With an explicit `--target`, RUSTFLAGS reach only the target's
        // crates, not build scripts and proc-macros (which cannot be static).
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS");
    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "the static build of cargo-otel failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let binary = target_dir.join(&target).join("debug").join("cargo-otel");
    let size = std::fs::metadata(&binary)
        .unwrap_or_else(|e| panic!("no `{}` after the build: {e}", binary.display()))
        .len();
    println!(
        "stand-in: static cargo-otel ready in {:.1}s ({:.1} MB, {})",
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6,
        binary.display()
    );
    binary
}

/// 12 hex digits identifying the binary and this recipe.
fn short_hash(bytes: &[u8]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(RECIPE.as_bytes());
    hasher.write(bytes);
    format!("{:016x}", hasher.finish())[..12].to_owned()
}

/// `docker import` of a root file system holding only the binary (no base
/// image, no build), with the image configuration as `changes` and `labels`
/// (`key=value` pairs separated by spaces). The benchmarks import it under
/// their own name and label, out of reach of the tests' clean-up.
pub(crate) fn import(docker: &Docker, binary: &[u8], image: &str, labels: &str) {
    let rootfs = tar_of(&[("cargo-otel", binary, 0o755)], 0);
    let entrypoint = ENTRYPOINT.map(|part| format!("\"{part}\"")).join(", ");
    let ports = DASHBOARD_PORTS.map(|port| format!("{port}/tcp")).join(" ");
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        // The tag goes in `repo`: Podman ignores `tag` on an import.
        .repo(image)
        .changes(vec![
            format!("ENTRYPOINT [{entrypoint}]"),
            format!("EXPOSE {ports}"),
            format!("LABEL {labels}"),
        ])
        .build();
    block_on(
        docker
            .create_image(Some(options), Some(body_full(rootfs.into())), None)
            .try_collect::<Vec<_>>(),
    )
    .unwrap_or_else(|e| panic!("import of `{image}`: {e}"));
}

/// Stand-ins of older binaries are a cache nobody will hit again.
fn remove_older_stand_ins(docker: &Docker, current: &str) {
    for image in images_labelled(docker, &format!("{ROLE_LABEL}=stand-in")) {
        if !image.repo_tags.iter().any(|tag| tag == current) {
            remove_image(docker, &image.id);
        }
    }
}

/// A tar archive of `(path, contents, mode)` entries, all with `mtime`.
pub(super) fn tar_of(files: &[(&str, &[u8], u32)], mtime: u64) -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    for (path, contents, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(mtime);
        header.set_cksum();
        archive
            .append_data(&mut header, path, *contents)
            .expect("appending to an in-memory tar");
    }
    archive.into_inner().expect("finishing an in-memory tar")
}

/// `len` bytes nobody can compress (xorshift64*), different on every call.
pub(super) fn random_bytes(len: usize) -> Vec<u8> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut state = (nanos ^ (u64::from(std::process::id()) << 32) ^ (call << 48)) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        bytes.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

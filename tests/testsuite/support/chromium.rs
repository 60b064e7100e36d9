//! Headless Chromium for the dashboard's browser tests: the DOM a page
//! settles on, screenshots, and the page's console (which must stay empty).
//!
//! Without `/usr/bin/chromium` a test gets `None` and says `SKIPPED: no
//! Chromium`, unless `CARGO_OTEL_REQUIRE_CHROMIUM` is set (as in CI).

#![allow(
    clippy::print_stdout,
    reason = "tests print where their screenshots are and why they skip"
)]

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

pub(crate) struct Chromium {
    binary: PathBuf,
}

/// The browser, or `None` (after saying so) when it is absent and not required.
pub(crate) fn chromium() -> Option<Chromium> {
    let binary = PathBuf::from(CHROMIUM);
    if binary.exists() {
        return Some(Chromium { binary });
    }
    assert!(
        env::var_os("CARGO_OTEL_REQUIRE_CHROMIUM").is_none(),
        "{CHROMIUM} is missing and CARGO_OTEL_REQUIRE_CHROMIUM is set; run .ci/install-chromium"
    );
    println!("SKIPPED: no Chromium");
    None
}

impl Chromium {
    /// The page's DOM once it settled; fails on anything in its console.
    pub(crate) fn dump_dom(&self, url: &str) -> String {
        let page = self.load(url);
        assert_quiet_console(url, &page.console);
        page.dom
    }

    /// The page's DOM and its console messages (errors, CSP violations, logs).
    pub(crate) fn load(&self, url: &str) -> Page {
        let output = self.run(&["--virtual-time-budget=5000", "--dump-dom", url]);
        Page {
            dom: output.stdout,
            console: console_lines(&output.stderr),
        }
    }

    pub(crate) fn screenshot(&self, url: &str, path: &Path, extra: &[&str]) {
        let target = format!("--screenshot={}", path.display());
        let mut args = vec![
            "--virtual-time-budget=5000",
            "--window-size=1400,900",
            "--hide-scrollbars",
            &target,
        ];
        args.extend_from_slice(extra);
        args.push(url);
        let output = self.run(&args);
        assert_quiet_console(url, &console_lines(&output.stderr));
    }

    /// Runs headless with a fresh profile, no network chatter and the page's
    /// console copied to stderr.
    fn run(&self, args: &[&str]) -> ChromiumOutput {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let mut child = Command::new(&self.binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if started.elapsed() > CHROMIUM_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromium hung for {CHROMIUM_TIMEOUT:?} on {args:?}; stderr:\n{}",
                    stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(50));
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        assert!(
            status.success(),
            "chromium failed ({status}) on {args:?}:\n{stderr}"
        );
        ChromiumOutput { stdout, stderr }
    }
}

struct ChromiumOutput {
    stdout: String,
    stderr: String,
}

pub(crate) struct Page {
    pub(crate) dom: String,
    /// What the page wrote to its console, one message a line.
    pub(crate) console: Vec<String>,
}

/// The console messages in Chromium's `--enable-logging=stderr` output:
/// `[pid:tid:time:INFO:CONSOLE:4] "Uncaught Error: boom", source: ...`.
fn console_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// The dashboard writes nothing to the console: a line there is an uncaught
/// exception, a CSP violation or a module that failed to load.
pub(crate) fn assert_quiet_console(url: &str, console: &[String]) {
    assert!(
        console.is_empty(),
        "console messages at {url}:\n{}",
        console.join("\n")
    );
}

/// Reads a pipe to the end on its own thread, so a full pipe cannot stall the child.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

pub(crate) fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../web-ui-artifacts");
    fs::create_dir_all(&dir).expect("create the artifacts directory");
    dir.canonicalize().unwrap_or(dir)
}

//! Running a built program the way a user would: a hermetic environment plus
//! the variables of the case, its output drained, killed if it hangs.

use std::{
    io::{BufRead as _, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// Hard limit for any run, so a hang fails the test instead of blocking CI.
const KILL_AFTER: Duration = Duration::from_secs(60);

/// How a run ended and what it printed.
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- {} after {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// `binary` with a hermetic environment plus `envs`, stdin closed.
pub(crate) fn command(binary: &Path, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary);
    super::hermetic(&mut command)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `binary` to its end.
pub(crate) fn run(binary: &Path, envs: &[(&str, &str)]) -> Run {
    Running::start(command(binary, envs)).wait()
}

/// A program still running, its stdout read line by line.
pub(crate) struct Running {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<String>,
    stdout: thread::JoinHandle<String>,
    stderr: thread::JoinHandle<String>,
}

impl Running {
    pub(crate) fn start(mut command: Command) -> Self {
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn the program");
        let (sender, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let stdout = thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = sender.send(line);
            }
            all
        });
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            started,
            lines,
            stdout,
            stderr,
        }
    }

    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// The first stdout line that starts with `prefix`.
    pub(crate) fn line_starting(&self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(KILL_AFTER) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => panic!("no stdout line starting with {prefix:?}"),
            }
        }
    }

    /// Whether it is still running after `time`.
    pub(crate) fn still_running_after(&mut self, time: Duration) -> bool {
        thread::sleep(time);
        self.child.try_wait().expect("poll the program").is_none()
    }

    pub(crate) fn wait(mut self) -> Run {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll the program") {
                break status;
            }
            if self.started.elapsed() > KILL_AFTER {
                // Best effort: the panic reports the hang either way.
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running after {KILL_AFTER:?}");
            }
            thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        Run {
            status,
            stdout: self.stdout.join().expect("stdout reader"),
            stderr: self.stderr.join().expect("stderr reader"),
            elapsed,
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error only truncates the diagnostics.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `<dir>/<name>` with the platform's executable suffix.
pub(crate) fn binary(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

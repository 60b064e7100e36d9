//! `cargo otel dash --watch`: the dashboard stays up while the program is
//! rebuilt and run again after each change to its sources, until Ctrl-C.
//!
//! A change starts a build while the program still runs; once the build
//! succeeds, the program is stopped as on Ctrl-C (SIGINT, up to 10 s to
//! flush its telemetry, then killed) and the new one starts. A failed build
//! leaves the running program (or, if it has exited, the last run's
//! telemetry) as it is, and the next change builds again. Every run is
//! numbered: `cargo_otel.run` on its resource, and one `Finished run N`
//! line when it ends. Ctrl-C during a build stops cargo; during a run it
//! stops the program the usual way; either way `dash` then ends, with 0.

use std::time::Duration;

use futures_util::FutureExt as _;

use super::{
    Build, Built, DashOptions, Dashboard, RunLabel, build_programs, report, run_programs,
    sources::Sources,
};
use crate::{Shell, backend::model::Counts, paths, project::Project, signals::StopSignals};

/// Runs the first build's programs, then again after each change, until
/// Ctrl-C; stops the dashboard at the end.
pub(super) async fn run(
    shell: &Shell,
    options: &DashOptions,
    projects: &[Project],
    first: anyhow::Result<Built>,
    dashboard: Dashboard,
) -> anyhow::Result<u8> {
    let watched = Watched::start(shell, options, projects);
    let ended = match watched {
        Ok(mut watched) => watched.cycle(first, &dashboard).await,
        Err(error) => Err(error),
    };
    match ended {
        Ok(()) => {
            dashboard.stop_early(shell, options.keep).await;
            Ok(0)
        }
        Err(error) => dashboard.abandon(shell, options.keep, error).await,
    }
}

/// What the loop holds.
struct Watched<'a> {
    shell: &'a Shell,
    options: &'a DashOptions,
    projects: &'a [Project],
    sources: Sources,
    signals: StopSignals,
    runs: u32,
}

impl<'a> Watched<'a> {
    fn start(
        shell: &'a Shell,
        options: &'a DashOptions,
        projects: &'a [Project],
    ) -> anyhow::Result<Self> {
        // Listening before watching: from here on, Ctrl-C is ours to handle.
        let signals = StopSignals::new()?;
        let sources = Sources::watch(projects)?;
        let root = &projects[0].workspace_root;
        let dirs: Vec<String> = sources
            .packages()
            .iter()
            .map(|dir| paths::display(dir, root))
            .collect();
        shell.status(
            "Watching",
            format!("{} for changes (Ctrl-C ends)", dirs.join(", ")),
        );
        Ok(Self {
            shell,
            options,
            projects,
            sources,
            signals,
            runs: 0,
        })
    }

    /// Runs each good build, and builds again after each change, until a
    /// request to stop.
    async fn cycle(
        &mut self,
        first: anyhow::Result<Built>,
        dashboard: &Dashboard,
    ) -> anyhow::Result<()> {
        self.sources.built();
        let mut next = match first {
            Ok(built) => Some(built),
            Err(error) => {
                failed(self.shell, &error);
                None
            }
        };
        loop {
            let built = match next.take() {
                Some(built) => built,
                None => match self.next_good_build_or_stop().await {
                    Some(built) => built,
                    None => return Ok(()),
                },
            };
            next = self.run(built, dashboard).await?;
            if self.signals.recv().now_or_never().is_some() {
                return Ok(());
            }
        }
    }

    /// Runs the programs of `built` until they exit, or until a change has
    /// been built: then returns that build.
    async fn run(&mut self, built: Built, dashboard: &Dashboard) -> anyhow::Result<Option<Built>> {
        self.runs += 1;
        let run = RunLabel::now(self.runs);
        let before = dashboard.received(Counts::default()).unwrap_or_default();
        let mut rebuilt = None;
        let (shell, options, projects) = (self.shell, self.options, self.projects);
        let sources = &mut self.sources;
        let restart = async {
            rebuilt = Some(next_good_build(shell, options, projects, sources).await);
        };
        let ran = run_programs(
            shell,
            options,
            projects,
            built.executables,
            dashboard,
            run,
            restart,
        )
        .await;
        let (exited, code) = match ran {
            Ok(ran) => ran,
            // A program that could not start is one run's failure, not the
            // end of watching.
            Err(error) => (format!("{error:#}"), 1),
        };
        let exited = format!(
            "run {} (built in {}): {exited}",
            run.number,
            seconds(built.took)
        );
        report(shell, &exited, code, &dashboard.received(before));
        Ok(rebuilt)
    }

    /// Waits for a change and builds until a build succeeds; `None` on
    /// Ctrl-C (cargo stopped).
    async fn next_good_build_or_stop(&mut self) -> Option<Built> {
        let Self {
            shell,
            options,
            projects,
            sources,
            signals,
            ..
        } = self;
        tokio::select! {
            biased;
            () = signals.recv() => {
                shell.status("Interrupted", "no longer watching for changes");
                None
            }
            built = next_good_build(shell, options, projects, sources) => Some(built),
        }
    }
}

/// Waits for a change, builds, and again until a build succeeds. Dropped
/// (on Ctrl-C), it stops the build under way.
async fn next_good_build(
    shell: &Shell,
    options: &DashOptions,
    projects: &[Project],
    sources: &mut Sources,
) -> Built {
    let root = &projects[0].workspace_root;
    loop {
        let changed = sources.changed().await;
        shell.status("Changed", paths::display(&changed, root));
        let mut build: Build = build_programs(shell, options, projects);
        let built = build.finish(projects).await;
        sources.built();
        match built {
            Ok(built) => return built,
            Err(error) => failed(shell, &error),
        }
    }
}

/// A failed build: said, and what happens next.
fn failed(shell: &Shell, error: &anyhow::Error) {
    shell.error(error);
    shell.note("the dashboard keeps what it received; the next change builds again");
}

fn seconds(took: Duration) -> String {
    format!("{:.2} s", took.as_secs_f64())
}

//! `cargo otel doctor`: every reason telemetry may not arrive, each as a
//! [`Check`] with a stable id, a status, a one-line finding and a fix.
//!
//! The groups live in their own files: [`project`] (manifest, resolved
//! graph, features, the `otel` module and `main`), [`environment`] (the
//! `OTEL_*` variables the exporter reads), [`tls`] (the certificate files
//! they name), [`backend`] (Docker, the dashboard, the ports) and
//! [`roundtrip`] (a real span, metric and log record sent with
//! opentelemetry-otlp, over TLS as the program would). [`output`] renders
//! them.
//!
//! Ids are stable: a check may be added, never renumbered. The list with
//! what each one means is in README.md ("cargo otel doctor").

pub mod backend;
pub mod environment;
pub mod output;
pub mod project;
pub mod roundtrip;
pub mod tls;

use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Skipped,
    Warning,
    Error,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skipped => "skipped",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// Which part of the pipeline a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Project,
    Environment,
    Tls,
    Backend,
    RoundTrip,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Self::Project,
        Self::Environment,
        Self::Tls,
        Self::Backend,
        Self::RoundTrip,
    ];

    /// As `--skip` spells it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Environment => "environment",
            Self::Tls => "tls",
            Self::Backend => "backend",
            Self::RoundTrip => "round-trip",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Project => "Project",
            Self::Environment => "Environment",
            Self::Tls => "TLS",
            Self::Backend => "Backend",
            Self::RoundTrip => "Round trip",
        }
    }
}

/// What `--fix` can do about a failed check without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Upgrade or add our pinned crates in the manifest (like `init --force`).
    AlignVersions,
    /// Declare the module, call `otel::init()`, keep its guard.
    WireMain,
    /// Write the module this version generates (it is absent or untouched).
    RegenerateModule,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub group: Group,
    /// What is checked, the same whatever the outcome.
    pub title: &'static str,
    pub status: Status,
    /// What was found, one line.
    pub finding: String,
    /// What to do about it (a command or the exact edit); none when ok.
    pub fix: Option<String>,
    /// Set when `cargo otel doctor --fix` can repair it.
    pub remedy: Option<Remedy>,
}

/// The static part of a check: id, group and title.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub id: &'static str,
    pub group: Group,
    pub title: &'static str,
}

impl Spec {
    const fn new(id: &'static str, group: Group, title: &'static str) -> Self {
        Self { id, group, title }
    }

    fn check(self, status: Status, finding: impl Into<String>) -> Check {
        Check {
            id: self.id,
            group: self.group,
            title: self.title,
            status,
            finding: finding.into(),
            fix: None,
            remedy: None,
        }
    }

    pub fn ok(self, finding: impl Into<String>) -> Check {
        self.check(Status::Ok, finding)
    }

    pub fn skipped(self, finding: impl Into<String>) -> Check {
        self.check(Status::Skipped, finding)
    }

    pub fn warning(self, finding: impl Into<String>, fix: impl Into<String>) -> Check {
        self.check(Status::Warning, finding).with_fix(fix)
    }

    pub fn error(self, finding: impl Into<String>, fix: impl Into<String>) -> Check {
        self.check(Status::Error, finding).with_fix(fix)
    }
}

impl Check {
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn fixable(mut self, remedy: Remedy) -> Self {
        self.remedy = Some(remedy);
        self
    }
}

/// Every check doctor knows, in report order. README.md documents each.
pub mod ids {
    use super::{Group, Spec};

    const P: Group = Group::Project;
    const E: Group = Group::Environment;
    const T: Group = Group::Tls;
    const B: Group = Group::Backend;
    const R: Group = Group::RoundTrip;

    pub const PACKAGE: Spec = Spec::new("OTEL001", P, "manifest found and package selected");
    pub const DEPENDENCIES: Spec = Spec::new("OTEL002", P, "OpenTelemetry dependencies declared");
    pub const RESOLVED: Spec = Spec::new("OTEL003", P, "dependency graph resolved");
    pub const ONE_OPENTELEMETRY: Spec = Spec::new("OTEL004", P, "one version of `opentelemetry`");
    pub const ONE_SDK: Spec = Spec::new("OTEL005", P, "one version of `opentelemetry_sdk`");
    pub const ONE_TRACING_OTEL: Spec =
        Spec::new("OTEL006", P, "one version of `tracing-opentelemetry`");
    pub const BRIDGE_MINOR: Spec = Spec::new(
        "OTEL007",
        P,
        "tracing-opentelemetry built for this opentelemetry",
    );
    pub const TRANSPORT: Spec = Spec::new("OTEL008", P, "exporter transport matches the endpoint");
    pub const TLS: Spec = Spec::new("OTEL009", P, "TLS feature for an https endpoint");
    pub const ASYNC_CLIENT: Spec =
        Spec::new("OTEL010", P, "no async-runtime features on the exporter");
    pub const MODULE: Spec = Spec::new("OTEL011", P, "`otel` module exists and is declared");
    pub const INIT_CALLED: Spec = Spec::new("OTEL012", P, "`otel::init` called in `main`");
    pub const GUARD_KEPT: Spec = Spec::new("OTEL013", P, "guard kept alive until `main` ends");
    pub const SECOND_SUBSCRIBER: Spec = Spec::new("OTEL014", P, "no second global subscriber");
    pub const DRIFT: Spec = Spec::new("OTEL015", P, "module matches this version's template");

    pub const SCHEME: Spec = Spec::new("OTEL020", E, "endpoint has a scheme");
    pub const PORT: Spec = Spec::new("OTEL021", E, "endpoint is an OTLP/gRPC port");
    pub const PROTOCOL: Spec = Spec::new("OTEL022", E, "protocol variable agrees with gRPC");
    pub const TIMEOUT: Spec = Spec::new("OTEL023", E, "timeouts are in milliseconds");
    pub const SDK_DISABLED: Spec = Spec::new("OTEL024", E, "SDK not disabled");
    pub const SAMPLER: Spec = Spec::new("OTEL025", E, "sampler keeps spans");
    pub const RUST_LOG: Spec = Spec::new("OTEL026", E, "RUST_LOG lets spans through");
    pub const HEADERS: Spec = Spec::new("OTEL027", E, "headers are `key=value` pairs");
    pub const URL: Spec = Spec::new("OTEL028", E, "endpoints parse as URLs");
    pub const COMPRESSION: Spec = Spec::new("OTEL029", E, "compression is gzip or none");

    pub const DOCKER: Spec = Spec::new("OTEL030", B, "Docker daemon reachable");
    pub const IMAGE: Spec = Spec::new("OTEL031", B, "dashboard image present");
    pub const CONTAINER: Spec = Spec::new("OTEL032", B, "dashboard container running and healthy");
    pub const PORTS: Spec = Spec::new("OTEL033", B, "default ports free or ours");
    pub const LOCAL_BACKEND: Spec = Spec::new("OTEL034", B, "local backend");

    pub const TRACES: Spec = Spec::new("OTEL040", R, "a span reaches the endpoint");
    pub const METRICS: Spec = Spec::new("OTEL041", R, "a metric reaches the endpoint");
    pub const LOGS: Spec = Spec::new("OTEL042", R, "a log record reaches the endpoint");

    pub const TLS_CA: Spec = Spec::new("OTEL050", T, "CA certificate readable and valid");
    pub const TLS_CLIENT: Spec = Spec::new("OTEL051", T, "client certificate and key form a pair");
    pub const TLS_UNUSED: Spec = Spec::new("OTEL052", T, "certificates used by an https endpoint");

    /// All of them, in order.
    pub const ALL: [Spec; 36] = [
        PACKAGE,
        DEPENDENCIES,
        RESOLVED,
        ONE_OPENTELEMETRY,
        ONE_SDK,
        ONE_TRACING_OTEL,
        BRIDGE_MINOR,
        TRANSPORT,
        TLS,
        ASYNC_CLIENT,
        MODULE,
        INIT_CALLED,
        GUARD_KEPT,
        SECOND_SUBSCRIBER,
        DRIFT,
        SCHEME,
        PORT,
        PROTOCOL,
        TIMEOUT,
        SDK_DISABLED,
        SAMPLER,
        RUST_LOG,
        HEADERS,
        URL,
        COMPRESSION,
        DOCKER,
        IMAGE,
        CONTAINER,
        PORTS,
        LOCAL_BACKEND,
        TRACES,
        METRICS,
        LOGS,
        TLS_CA,
        TLS_CLIENT,
        TLS_UNUSED,
    ];
}

/// All checks of one run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Status::Error) > 0
    }

    pub fn all_well(&self) -> bool {
        self.checks
            .iter()
            .all(|c| matches!(c.status, Status::Ok | Status::Skipped))
    }

    pub fn remedies(&self) -> Vec<Remedy> {
        let mut remedies: Vec<Remedy> = Vec::new();
        for remedy in self.checks.iter().filter_map(|c| c.remedy) {
            if !remedies.contains(&remedy) {
                remedies.push(remedy);
            }
        }
        remedies
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered() {
        let ids: Vec<&str> = ids::ALL.iter().map(|s| s.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }
}

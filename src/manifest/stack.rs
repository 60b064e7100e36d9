//! The one set of crates `init` adds: pinned, mutually compatible versions,
//! each with the smallest feature set the generated module needs (every extra
//! feature costs the user build time; see rust-otel notes §1.2 and §1.4).

/// A dependency as `init` adds it.
#[derive(Debug)]
pub struct PinnedDependency {
    pub name: &'static str,
    pub version: &'static str,
    pub features: &'static [&'static str],
    /// What the crate turns on by default: an existing dependency that keeps
    /// its default features already has these.
    pub default_features: &'static [&'static str],
    /// A feature that turns on all the others (tokio's `full`).
    pub umbrella: Option<&'static str>,
    /// Whether a newly added dependency keeps the crate's default features:
    /// yes where they are what users expect (`#[tracing::instrument]`, fmt's
    /// defaults), no where they would pull a second HTTP stack.
    pub keep_defaults: bool,
}

const OTEL: &str = "0.33.1";

/// tracing-opentelemetry's minor version is always opentelemetry's plus one.
pub const STACK: &[PinnedDependency] = &[
    PinnedDependency {
        name: "opentelemetry",
        version: OTEL,
        features: &["trace", "metrics", "logs"],
        default_features: &["trace", "metrics", "logs", "internal-logs", "futures"],
        umbrella: None,
        keep_defaults: false,
    },
    PinnedDependency {
        name: "opentelemetry_sdk",
        version: OTEL,
        features: &["trace", "metrics", "logs"],
        default_features: &["trace", "metrics", "logs", "internal-logs"],
        umbrella: None,
        keep_defaults: false,
    },
    PinnedDependency {
        name: "opentelemetry-otlp",
        version: OTEL,
        // `internal-logs` makes failed exports visible as tracing events;
        // TLS with rustls on ring (the cheaper provider to build, BENCHMARKS.md
        // area 5) and Mozilla's roots; gzip for OTEL_EXPORTER_OTLP_COMPRESSION.
        features: &[
            "grpc-tonic",
            "trace",
            "metrics",
            "logs",
            "internal-logs",
            "tls-ring",
            "tls-webpki-roots",
            "gzip-tonic",
        ],
        default_features: &[
            "http-proto",
            "reqwest-blocking-client",
            "trace",
            "metrics",
            "logs",
            "internal-logs",
        ],
        umbrella: None,
        keep_defaults: false,
    },
    PinnedDependency {
        name: "opentelemetry-appender-tracing",
        version: OTEL,
        features: &[],
        default_features: &[],
        umbrella: None,
        keep_defaults: false,
    },
    PinnedDependency {
        name: "tracing-opentelemetry",
        version: "0.34.0",
        features: &[],
        default_features: &["tracing-log", "metrics"],
        umbrella: None,
        keep_defaults: false,
    },
    PinnedDependency {
        name: "tracing",
        version: "0.1.44",
        features: &["std"],
        default_features: &["std", "attributes"],
        umbrella: None,
        keep_defaults: true,
    },
    PinnedDependency {
        name: "tracing-subscriber",
        version: "0.3.23",
        features: &[
            "registry",
            "std",
            "fmt",
            "ansi",
            "env-filter",
            "tracing-log",
        ],
        default_features: &["smallvec", "fmt", "ansi", "tracing-log", "std", "registry"],
        umbrella: None,
        keep_defaults: true,
    },
    // The module's exit hooks (signal handlers, `atexit`); tokio already
    // builds it.
    PinnedDependency {
        name: "libc",
        version: "0.2.191",
        features: &[],
        default_features: &["std"],
        umbrella: None,
        keep_defaults: true,
    },
    PinnedDependency {
        name: "tokio",
        version: "1.54.1",
        features: &["rt-multi-thread"],
        default_features: &[],
        umbrella: Some("full"),
        keep_defaults: true,
    },
];

impl PinnedDependency {
    /// Whether a requirement the user already has can stand in for ours:
    /// cargo picks one version for both when they are semver-compatible.
    pub fn accepts(&self, requirement: &str) -> bool {
        let ours = semver::Version::parse(self.version).expect("pinned versions are valid");
        let Ok(theirs) = semver::VersionReq::parse(requirement) else {
            return false;
        };
        let floor = semver::Version::new(ours.major, ours.minor, 0);
        theirs.matches(&ours)
            || theirs.matches(&floor)
            || theirs
                .comparators
                .first()
                .is_some_and(|c| same_series(c, &ours))
    }

    /// The version as `cargo add` prints it: `v0.33.1`.
    pub fn display_version(&self) -> String {
        format!("v{}", self.version)
    }

    /// Our features that `present` (with or without the defaults) lacks.
    pub fn missing_features(
        &self,
        present: &[String],
        default_features: bool,
    ) -> Vec<&'static str> {
        let has = |feature: &str| {
            present
                .iter()
                .any(|p| p == feature || Some(p.as_str()) == self.umbrella)
                || (default_features && self.default_features.contains(&feature))
        };
        self.features.iter().copied().filter(|f| !has(f)).collect()
    }
}

/// `=0.33.0` and `~0.33` are in the 0.33 series; `1.2` and `^1` in the 1 series.
fn same_series(comparator: &semver::Comparator, ours: &semver::Version) -> bool {
    if ours.major > 0 {
        comparator.major == ours.major
    } else {
        comparator.major == 0 && comparator.minor == Some(ours.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(name: &str) -> &'static PinnedDependency {
        STACK.iter().find(|d| d.name == name).unwrap()
    }

    #[test]
    fn compatible_requirements() {
        let otel = pinned("opentelemetry");
        for ok in [
            "0.33",
            "0.33.0",
            "=0.33.1",
            "^0.33",
            "~0.33.0",
            ">=0.33, <0.34",
            "*",
        ] {
            assert!(otel.accepts(ok), "{ok}");
        }
        for bad in ["0.32", "0.34", "=0.32.1", "1", "not a version"] {
            assert!(!otel.accepts(bad), "{bad}");
        }
        let tokio = pinned("tokio");
        assert!(tokio.accepts("1") && tokio.accepts("1.20.0") && !tokio.accepts("0.2"));
    }

    #[test]
    fn defaults_and_umbrellas_count_as_present() {
        let subscriber = pinned("tracing-subscriber");
        assert_eq!(subscriber.missing_features(&[], true), ["env-filter"]);
        let tokio = pinned("tokio");
        assert!(tokio.missing_features(&["full".into()], false).is_empty());
        assert_eq!(
            tokio.missing_features(&["macros".into()], true),
            ["rt-multi-thread"]
        );
    }

    #[test]
    fn tracing_opentelemetry_is_one_minor_ahead() {
        let otel = semver::Version::parse(pinned("opentelemetry").version).unwrap();
        let bridge = semver::Version::parse(pinned("tracing-opentelemetry").version).unwrap();
        assert_eq!(bridge.minor, otel.minor + 1);
    }
}

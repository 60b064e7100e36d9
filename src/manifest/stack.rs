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
    /// Every feature this version has (implicit ones of optional dependencies
    /// included): an upgrade with `--force` drops the others, which would
    /// keep the manifest from resolving.
    pub all_features: &'static [&'static str],
    /// Whether the user's requirement must accept `version`; not for a
    /// framework whose features the module needs at whatever version it is.
    pub check_version: bool,
}

const OTEL: &str = "0.33.1";

/// The crate only the module's exit hooks use (see [`STACK`]).
const EXIT_HOOKS_CRATE: &str = "libc";

/// The crates of [`STACK`] a module needs: all of them, but the exit hooks'
/// crate for a module without them (a crate that forbids `unsafe_code`).
pub fn stack_for(exit_hooks: bool) -> impl Iterator<Item = &'static PinnedDependency> {
    STACK
        .iter()
        .filter(move |d| exit_hooks || d.name != EXIT_HOOKS_CRATE)
}

/// tracing-opentelemetry's minor version is always opentelemetry's plus one.
pub const STACK: &[PinnedDependency] = &[
    PinnedDependency {
        name: "opentelemetry",
        version: OTEL,
        features: &["trace", "metrics", "logs"],
        default_features: &["trace", "metrics", "logs", "internal-logs", "futures"],
        umbrella: None,
        keep_defaults: false,
        all_features: &[
            "default",
            "experimental_context_observer",
            "experimental_metrics_bound_instruments",
            "futures",
            "futures-core",
            "futures-sink",
            "internal-logs",
            "logs",
            "metrics",
            "pin-project-lite",
            "testing",
            "thiserror",
            "trace",
            "tracing",
        ],
        check_version: true,
    },
    PinnedDependency {
        name: "opentelemetry_sdk",
        version: OTEL,
        features: &["trace", "metrics", "logs"],
        default_features: &["trace", "metrics", "logs", "internal-logs"],
        umbrella: None,
        keep_defaults: false,
        all_features: &[
            "bench_profiling",
            "default",
            "experimental_async_runtime",
            "experimental_logs_batch_log_processor_with_async_runtime",
            "experimental_metrics_bound_instruments",
            "experimental_metrics_custom_reader",
            "experimental_metrics_disable_name_validation",
            "experimental_metrics_periodicreader_with_async_runtime",
            "experimental_trace_batch_span_processor_with_async_runtime",
            "http",
            "internal-logs",
            "jaeger_remote_sampler",
            "logs",
            "metrics",
            "opentelemetry-http",
            "percent-encoding",
            "rand",
            "rt-tokio",
            "rt-tokio-current-thread",
            "serde",
            "serde_json",
            "spec_unstable_metrics_views",
            "testing",
            "tokio",
            "tokio-stream",
            "trace",
            "url",
        ],
        check_version: true,
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
        all_features: &[
            "default",
            "flate2",
            "grpc-tonic",
            "gzip-http",
            "gzip-tonic",
            "http",
            "http-json",
            "http-proto",
            "httpdate",
            "hyper-client",
            "integration-testing",
            "internal-logs",
            "logs",
            "metrics",
            "opentelemetry-http",
            "prost",
            "reqwest",
            "reqwest-blocking-client",
            "reqwest-client",
            "reqwest-rustls",
            "serde_json",
            "tls-aws-lc",
            "tls-provider-agnostic",
            "tls-ring",
            "tls-roots",
            "tls-webpki-roots",
            "tokio",
            "tonic",
            "tonic-types",
            "trace",
            "zstd",
            "zstd-http",
            "zstd-tonic",
        ],
        check_version: true,
    },
    PinnedDependency {
        name: "opentelemetry-appender-tracing",
        version: OTEL,
        features: &[],
        default_features: &[],
        umbrella: None,
        keep_defaults: false,
        all_features: &[
            "bench_profiling",
            "default",
            "experimental_metadata_attributes",
            "experimental_span_attributes",
            "log",
        ],
        check_version: true,
    },
    PinnedDependency {
        name: "tracing-opentelemetry",
        version: "0.34.0",
        features: &[],
        default_features: &["tracing-log", "metrics"],
        umbrella: None,
        keep_defaults: false,
        all_features: &[
            "default",
            "lazy_static",
            "metrics",
            "smallvec",
            "tracing-log",
        ],
        check_version: true,
    },
    PinnedDependency {
        name: "tracing",
        version: "0.1.44",
        features: &["std"],
        default_features: &["std", "attributes"],
        umbrella: None,
        keep_defaults: true,
        all_features: &[
            "async-await",
            "attributes",
            "default",
            "log",
            "log-always",
            "max_level_debug",
            "max_level_error",
            "max_level_info",
            "max_level_off",
            "max_level_trace",
            "max_level_warn",
            "release_max_level_debug",
            "release_max_level_error",
            "release_max_level_info",
            "release_max_level_off",
            "release_max_level_trace",
            "release_max_level_warn",
            "std",
            "tracing-attributes",
            "valuable",
        ],
        check_version: true,
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
        all_features: &[
            "alloc",
            "ansi",
            "chrono",
            "default",
            "env-filter",
            "fmt",
            "json",
            "local-time",
            "matchers",
            "nu-ansi-term",
            "once_cell",
            "parking_lot",
            "regex",
            "registry",
            "serde",
            "serde_json",
            "sharded-slab",
            "smallvec",
            "std",
            "thread_local",
            "time",
            "tracing",
            "tracing-log",
            "tracing-serde",
            "valuable",
            "valuable-serde",
            "valuable_crate",
        ],
        check_version: true,
    },
    // The module's exit hooks (signal handlers, `atexit`); tokio already
    // builds it. An old floor on purpose: the hooks use calls every 0.2 has,
    // and a newer requirement would move the program's locked libc, which
    // broke a crate relying on a constant 0.2.191 removed (xattr 0.2's
    // `ENOATTR` on Linux).
    PinnedDependency {
        name: "libc",
        version: "0.2.150",
        features: &[],
        default_features: &["std"],
        umbrella: None,
        keep_defaults: true,
        all_features: &[
            "align",
            "const-extern-fn",
            "default",
            "extra_traits",
            "rustc-dep-of-std",
            "rustc-std-workspace-core",
            "std",
            "use_std",
        ],
        check_version: true,
    },
    PinnedDependency {
        name: "tokio",
        version: "1.54.1",
        features: &["rt-multi-thread"],
        default_features: &[],
        umbrella: Some("full"),
        keep_defaults: true,
        all_features: &[
            "bytes",
            "default",
            "fs",
            "full",
            "io-std",
            "io-uring",
            "io-util",
            "libc",
            "macros",
            "mio",
            "net",
            "parking_lot",
            "process",
            "rt",
            "rt-multi-thread",
            "schedule-latency",
            "signal",
            "signal-hook-registry",
            "socket2",
            "sync",
            "taskdump",
            "test-util",
            "time",
            "tokio-macros",
            "tracing",
            "windows-sys",
        ],
        check_version: true,
    },
];

/// A package the stack reaches whose requirement, as a crate of the stack
/// declares it, accepts versions that crate does not compile with. Cargo
/// keeps a program's locked version when it meets the requirement, so
/// `init` raises a lock below the floor (and only such a lock).
#[derive(Debug)]
pub struct LockFloor {
    pub name: &'static str,
    /// The oldest version that compiles; older ones of its series are raised.
    pub version: &'static str,
    /// The crate of the stack that needs it, as `init` names it.
    pub needed_by: &'static str,
}

/// Found by building the stack over a program locked at the oldest versions
/// the stack's requirements allow, and bisecting each failure.
///
/// tokio first: once it is raised, tokio-util can go further.
pub const LOCK_FLOORS: &[LockFloor] = &[
    // tonic pulls in tokio-stream, whose 0.1.18 declares `tokio = "1.15"`
    // but calls `mpsc::Receiver::{capacity, max_capacity}` (new in tokio
    // 1.38). Cargo usually moves an older tokio itself for the stack; where
    // something holds tokio back (`tokio = "~1.34"`), it adds tokio-stream
    // 0.1.18 over it instead.
    LockFloor {
        name: "tokio",
        version: "1.38.0",
        needed_by: "tokio-stream 0.1.18",
    },
    // tonic 0.14.9 (the exporter's gRPC transport) declares
    // `tokio-util = "0.7"` but uses `sync::WaitForCancellationFutureOwned`
    // and `CancellationToken::cancelled_owned`, both new in 0.7.5.
    LockFloor {
        name: "tokio-util",
        version: "0.7.5",
        needed_by: "tonic 0.14.9",
    },
    // tonic 0.14.9 asks for `tower = "0.5"`. Over a tower-layer locked at
    // 0.3.2, cargo picks tower 0.5.0, which declares `tower-layer = "0.3.1"`
    // but calls `Identity::new` in its `const fn ServiceBuilder::new`: const
    // only from tower-layer 0.3.3 (seen on a real TCP server's old lock).
    LockFloor {
        name: "tower-layer",
        version: "0.3.3",
        needed_by: "tower 0.5",
    },
];

impl LockFloor {
    /// Whether `locked` is in this floor's series (`0.7.x` for `0.7.5`) and
    /// below the floor: a version of another series is another package to
    /// cargo, which the stack does not use.
    pub fn is_below(&self, locked: &str) -> bool {
        let floor = semver::Version::parse(self.version).expect("floors are valid versions");
        let Ok(locked) = semver::Version::parse(locked) else {
            return false;
        };
        let series = |v: &semver::Version| match v.major {
            0 => (0, v.minor),
            major => (major, 0),
        };
        series(&locked) == series(&floor) && locked < floor
    }
}

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

    /// Whether this version has `feature` (`a/b` names a dependency's own
    /// feature, which is not checked).
    pub fn has_feature(&self, feature: &str) -> bool {
        feature.contains('/') || self.all_features.contains(&feature)
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
    fn a_floor_holds_back_only_its_own_series() {
        let floor = LockFloor {
            name: "tokio-util",
            version: "0.7.5",
            needed_by: "tonic",
        };
        assert!(floor.is_below("0.7.0") && floor.is_below("0.7.4"));
        for not in ["0.7.5", "0.7.20", "0.6.10", "0.8.0", "not a version"] {
            assert!(!floor.is_below(not), "{not}");
        }
    }

    #[test]
    fn tracing_opentelemetry_is_one_minor_ahead() {
        let otel = semver::Version::parse(pinned("opentelemetry").version).unwrap();
        let bridge = semver::Version::parse(pinned("tracing-opentelemetry").version).unwrap();
        assert_eq!(bridge.minor, otel.minor + 1);
    }

    /// `init` and `doctor --fix` add the same crates: libc only where the
    /// module has its exit hooks.
    #[test]
    fn libc_only_for_the_exit_hooks() {
        assert_eq!(stack_for(true).count(), STACK.len());
        let without: Vec<&str> = stack_for(false).map(|d| d.name).collect();
        assert_eq!(without.len(), STACK.len() - 1);
        assert!(!without.contains(&"libc"), "{without:?}");
    }
}

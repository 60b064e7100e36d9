//! Which frameworks a package uses (its direct dependencies, from `cargo
//! metadata`), and what `init` adds for each: the instrumentation crate
//! built for our OpenTelemetry version, a piece of the generated module, and
//! the lines that put that piece to use.
//!
//! Every crate here was checked to resolve against opentelemetry 0.33.1
//! without a second OpenTelemetry version (rust-otel notes §5.2). Where no
//! crate supports 0.33 (reqwest: reqwest-tracing stops at 0.32), the
//! generated module carries its own small helper instead.

use crate::manifest::PinnedDependency;

/// A framework `init` knows how to instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Framework {
    Axum,
    ActixWeb,
    Tonic,
    Reqwest,
    Hyper,
}

/// A framework found among the package's dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub framework: Framework,
    /// The requirement as written in `Cargo.toml` (for a path dependency,
    /// the version in its own manifest).
    pub requirement: String,
    pub source: Source,
}

/// The server spans are written against the program's own axum, actix-web
/// and tonic (see `templates/otel/`). An instrumentation crate would link its
/// own copy of the framework from crates.io, which breaks where the
/// program's comes from a path, a git repository or a patch (request spans
/// lose their route, actix-web's middleware no longer fits the `App`), and
/// would tie the framework's version to that crate's releases. What they
/// need from the framework, at whatever version the program has:
///
/// axum's `MatchedPath` (the route template), a default feature.
const AXUM: PinnedDependency = PinnedDependency {
    name: "axum",
    version: "0.8.0",
    features: &["matched-path"],
    default_features: &[
        "form",
        "http1",
        "json",
        "matched-path",
        "original-uri",
        "query",
        "tokio",
        "tower-log",
        "tracing",
    ],
    umbrella: None,
    keep_defaults: true,
    all_features: &[],
    check_version: false,
};

/// `tonic::codegen` (the `Service` trait and `http`), a default feature.
const TONIC: PinnedDependency = PinnedDependency {
    name: "tonic",
    version: "0.14.0",
    features: &["codegen"],
    default_features: &["router", "transport", "codegen"],
    umbrella: None,
    keep_defaults: true,
    all_features: &[],
    check_version: false,
};

/// The tower `Layer` trait, which tonic does not re-export.
const TOWER_LAYER: PinnedDependency = PinnedDependency {
    name: "tower-layer",
    version: "0.3.3",
    features: &[],
    default_features: &[],
    umbrella: None,
    keep_defaults: true,
    all_features: &[],
    check_version: true,
};

/// `HeaderInjector` / `HeaderExtractor` over `http::HeaderMap`.
const HTTP: PinnedDependency = PinnedDependency {
    name: "opentelemetry-http",
    version: "0.33.1",
    features: &[],
    default_features: &["internal-logs"],
    umbrella: None,
    keep_defaults: false,
    all_features: &[
        "default",
        "hyper",
        "internal-logs",
        "reqwest",
        "reqwest-blocking",
        "reqwest-rustls",
    ],
    check_version: true,
};

impl Framework {
    /// The crate name that gives it away.
    fn crate_name(self) -> &'static str {
        match self {
            Self::Axum => "axum",
            Self::ActixWeb => "actix-web",
            Self::Tonic => "tonic",
            Self::Reqwest => "reqwest",
            Self::Hyper => "hyper",
        }
    }

    /// The oldest version our generated code works with (the http 1 era).
    fn oldest(self) -> semver::Version {
        match self {
            Self::Axum => semver::Version::new(0, 8, 0),
            Self::ActixWeb => semver::Version::new(4, 0, 0),
            Self::Tonic => semver::Version::new(0, 14, 0),
            Self::Reqwest => semver::Version::new(0, 12, 0),
            Self::Hyper => semver::Version::new(1, 0, 0),
        }
    }

    /// The key the module template tests with `{{#if ...}}`.
    pub fn template_key(self) -> &'static str {
        match self {
            Self::Axum => "axum",
            Self::ActixWeb => "actix_web",
            Self::Tonic => "tonic",
            Self::Reqwest => "reqwest",
            Self::Hyper => "hyper",
        }
    }

    pub const ALL: [Framework; 5] = [
        Self::Axum,
        Self::ActixWeb,
        Self::Tonic,
        Self::Reqwest,
        Self::Hyper,
    ];

    /// What the instrumentation covers, for the `Detected` line.
    fn role(self) -> &'static str {
        match self {
            Self::Axum | Self::ActixWeb => "server",
            Self::Tonic => "server and client",
            Self::Reqwest => "client",
            Self::Hyper => "server and client",
        }
    }

    pub fn dependencies(self) -> &'static [PinnedDependency] {
        match self {
            Self::Axum => std::slice::from_ref(&AXUM),
            Self::ActixWeb => &[],
            Self::Tonic => &[TONIC, TOWER_LAYER],
            Self::Reqwest | Self::Hyper => std::slice::from_ref(&HTTP),
        }
    }

    /// The crate's name, for messages.
    pub fn crate_display(self) -> &'static str {
        self.crate_name()
    }

    /// What the user's code contains once it uses the module's piece.
    pub fn piece(self) -> &'static str {
        match self {
            Self::Axum => "otel::http_layer",
            Self::ActixWeb => "otel::actix_tracing",
            Self::Tonic => "otel::grpc_",
            Self::Reqwest => "send_traced",
            Self::Hyper => "otel::inject_context",
        }
    }

    /// The lines that use the module's piece, for the user to add where
    /// `init` does not add them itself.
    pub fn usage(self) -> &'static str {
        match self {
            Self::Axum => "let app = Router::new() /* routes */ .layer(otel::http_layer());",
            Self::ActixWeb => "App::new().wrap(otel::actix_tracing()) /* routes */",
            Self::Tonic => {
                "Server::builder().layer(otel::grpc_server_layer())  // server\n\
                 tower::ServiceBuilder::new().layer(otel::grpc_client_layer()).service(channel)  // client"
            }
            Self::Reqwest => {
                "use otel::SendTraced as _;\n\
                 client.get(url).send_traced().await  // instead of .send().await"
            }
            Self::Hyper => {
                "let parent = otel::extract_context(request.headers());  // server\n\
                 otel::inject_context(request.headers_mut());  // client"
            }
        }
    }
}

impl Framework {
    /// The lines that put the module's server piece to use where the
    /// program builds what it serves, for the user to add where `init`
    /// cannot.
    pub fn server_usage(self) -> &'static str {
        match self {
            Self::Hyper => {
                "otel::hyper_service(service)  // the service you serve: serve_connection(io, otel::hyper_service(service))"
            }
            _ => self.usage(),
        }
    }
}

/// A dependency of the package, as `cargo metadata` lists it.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    pub requirement: String,
    /// Whether the program always links it under its own name: a normal
    /// dependency (or a dev-dependency, for an example) that is neither
    /// optional, platform-only nor renamed. A framework used by tests alone,
    /// or only with a feature on, is not one the module may rely on.
    pub normal: bool,
    /// Where it comes from when that is not a registry.
    pub source: Source,
}

/// Where a dependency's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Registry,
    /// A path dependency, with the version its own manifest gives (if read).
    Path {
        shown: String,
        version: Option<String>,
    },
    /// A git dependency (its version is only known once resolved).
    Git {
        url: String,
    },
    /// A registry dependency that `[patch]` replaces (`path ../axum`).
    Patched {
        from: String,
    },
}

/// The frameworks among `dependencies`, in [`Framework::ALL`] order, and
/// the ones found at a version too old for the generated code.
pub fn detect(dependencies: &[Dependency]) -> (Vec<Detected>, Vec<Detected>) {
    let mut found = Vec::new();
    let mut too_old = Vec::new();
    for framework in Framework::ALL {
        let Some(dependency) = dependencies
            .iter()
            .find(|d| d.normal && d.name == framework.crate_name())
        else {
            continue;
        };
        // A path dependency's requirement is usually `*`: its manifest says more.
        let requirement = match &dependency.source {
            Source::Path {
                version: Some(version),
                ..
            } => version.clone(),
            _ => dependency.requirement.clone(),
        };
        let detected = Detected {
            framework,
            requirement: requirement.clone(),
            source: dependency.source.clone(),
        };
        if allows_at_least(&requirement, &framework.oldest()) {
            found.push(detected);
        } else {
            too_old.push(detected);
        }
    }
    (found, too_old)
}

/// Whether the requirement's floor is at `oldest` or newer (`0.12`, `^0.13`,
/// `>=1.1`); a requirement we cannot read counts as new enough.
fn allows_at_least(requirement: &str, oldest: &semver::Version) -> bool {
    let Ok(requirement) = semver::VersionReq::parse(requirement) else {
        return true;
    };
    let Some(first) = requirement.comparators.first() else {
        return true; // `*`
    };
    let floor = semver::Version::new(
        first.major,
        first.minor.unwrap_or(0),
        first.patch.unwrap_or(0),
    );
    floor.major > oldest.major || (floor.major == oldest.major && floor >= *oldest)
}

impl Detected {
    /// `axum 0.8 (server)`, `axum 0.8.9 from path ../axum (server)`.
    pub fn describe(&self) -> String {
        let Self {
            framework,
            requirement,
            source,
        } = self;
        let from = match source {
            Source::Registry => String::new(),
            Source::Path { shown, .. } => format!(" from path {shown}"),
            Source::Git { url } => format!(" from git {url}"),
            Source::Patched { from } => format!(" patched to {from}"),
        };
        let name = framework.crate_name();
        let role = framework.role();
        format!("{name} {requirement}{from} ({role})")
    }
}

impl Framework {
    /// What only the module's piece for this framework declares.
    fn signature(self) -> &'static str {
        match self {
            Self::Axum => "pub fn http_layer()",
            Self::ActixWeb => "pub fn actix_tracing()",
            Self::Tonic => "pub fn grpc_server_layer()",
            Self::Reqwest => "pub trait SendTraced",
            Self::Hyper => "pub fn inject_context(",
        }
    }
}

/// The frameworks whose pieces `init` put in `module` (all it would put in
/// when there is no module yet): what the module of an untouched `init`
/// contains, so not after `init --no-detect`. For `doctor`.
pub fn instrumented(dependencies: &[Dependency], module: Option<&str>) -> Vec<Framework> {
    detect(dependencies)
        .0
        .into_iter()
        .map(|found| found.framework)
        .filter(|framework| module.is_none_or(|text| text.contains(framework.signature())))
        .collect()
}

/// The pinned crates for `frameworks`, each once.
pub fn dependencies(frameworks: &[Framework]) -> Vec<&'static PinnedDependency> {
    let mut all: Vec<&'static PinnedDependency> = Vec::new();
    for framework in frameworks {
        for dependency in framework.dependencies() {
            if !all.iter().any(|d| d.name == dependency.name) {
                all.push(dependency);
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, requirement: &str) -> Dependency {
        Dependency {
            name: name.to_owned(),
            requirement: requirement.to_owned(),
            normal: true,
            source: Source::Registry,
        }
    }

    #[test]
    fn finds_frameworks_at_supported_versions() {
        let (found, old) = detect(&[
            dep("reqwest", "^0.13"),
            dep("axum", "^0.8.4"),
            dep("serde", "^1"),
        ]);
        let found: Vec<Framework> = found.iter().map(|d| d.framework).collect();
        assert_eq!(found, [Framework::Axum, Framework::Reqwest]);
        assert!(old.is_empty());
    }

    #[test]
    fn old_versions_and_dev_dependencies_are_not_instrumented() {
        let mut dev = dep("tonic", "^0.14");
        dev.normal = false;
        let (found, old) = detect(&[dep("reqwest", "^0.11"), dep("axum", "0.7"), dev]);
        assert!(found.is_empty());
        let old: Vec<Framework> = old.iter().map(|d| d.framework).collect();
        assert_eq!(old, [Framework::Axum, Framework::Reqwest]);
    }

    #[test]
    fn shared_crates_are_added_once() {
        let deps = dependencies(&[Framework::Reqwest, Framework::Hyper]);
        assert_eq!(deps.len(), 1);
    }

    #[test]
    fn instrumented_means_detected_and_its_piece_present() {
        let axum = dep("axum", "0.8");
        let deps = std::slice::from_ref(&axum);
        let plain = crate::codegen::otel_module().unwrap();
        assert!(
            instrumented(deps, Some(&plain)).is_empty(),
            "init --no-detect"
        );
        let pieces = crate::codegen::Pieces {
            frameworks: vec![Framework::Axum],
            ..Default::default()
        };
        let module = crate::codegen::otel_module_for(&pieces).unwrap();
        assert_eq!(instrumented(deps, Some(&module)), vec![Framework::Axum]);
        assert_eq!(instrumented(deps, None), vec![Framework::Axum]);
    }

    #[test]
    fn a_path_dependency_is_judged_by_its_own_version() {
        let mut axum = dep("axum", "*");
        axum.source = Source::Path {
            shown: "../axum".into(),
            version: Some("0.7.9".into()),
        };
        let (found, old) = detect(std::slice::from_ref(&axum));
        assert!(found.is_empty());
        assert_eq!(old[0].describe(), "axum 0.7.9 from path ../axum (server)");
    }
}

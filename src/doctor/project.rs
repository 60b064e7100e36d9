//! The package itself: its manifest, the resolved graph in `Cargo.lock`, the
//! exporter's features, the `otel` module and what `main` does with it.
//! Nothing here writes a file.

use std::path::Path;

use super::{Check, Remedy, Spec, environment::Endpoint, ids};
use crate::{
    analysis::{
        Global, Input, Kind, Program,
        main_fn::{self, Guard, InitCall},
    },
    codegen::{self, Provenance, Syntax},
    manifest::{
        self, Declared, LocalManifest, STACK,
        lockfile::{Graph, Node, Origin},
    },
    paths,
    project::{self, Project, Selection, Target},
    wiring,
};

/// The crates whose second version splits the globals (rust-otel Pitfall 1).
const SINGLE: [(&str, Spec); 3] = [
    ("opentelemetry", ids::ONE_OPENTELEMETRY),
    ("opentelemetry_sdk", ids::ONE_SDK),
    ("tracing-opentelemetry", ids::ONE_TRACING_OTEL),
];

/// The crates the generated module uses, which `init` adds.
const OTEL_CRATES: [&str; 5] = [
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry-otlp",
    "opentelemetry-appender-tracing",
    "tracing-opentelemetry",
];

const TLS_FEATURES: [&str; 3] = ["tls-ring", "tls-aws-lc", "tls-provider-agnostic"];
const ROOTS_FEATURES: [&str; 2] = ["tls-roots", "tls-webpki-roots"];
/// Features that need a Tokio runtime in the exporting thread, which the
/// thread-based processors do not have ("there is no reactor running").
const ASYNC_OTLP: [&str; 2] = ["reqwest-client", "hyper-client"];
const ASYNC_SDK: [&str; 3] = [
    "rt-tokio",
    "rt-tokio-current-thread",
    "experimental_async_runtime",
];

/// The project checks; the project too when one was found.
pub fn check(
    selection: &Selection,
    cwd: &Path,
    endpoints: &[Endpoint],
) -> (Vec<Check>, Option<Project>) {
    let project = match project::locate(selection, cwd) {
        Ok(project) => project,
        Err(error) => {
            let text = format!("{error:#}");
            let (finding, help) = match text.split_once("\nhelp: ") {
                Some((finding, help)) => (finding.replace('\n', " "), help.to_owned()),
                None => (
                    text.replace('\n', " "),
                    "pass `--manifest-path` or `-p`".to_owned(),
                ),
            };
            let mut checks = vec![ids::PACKAGE.error(finding, help)];
            let rest = ids::ALL
                .iter()
                .filter(|s| s.group == super::Group::Project)
                .skip(1);
            checks.extend(rest.map(|s| s.skipped("no package")));
            return (checks, None);
        }
    };
    let mut checks = vec![ids::PACKAGE.ok(describe(&project))];
    let manifests = Manifests::load(&project);
    checks.push(dependencies(&manifests));
    checks.extend(graph_checks(&project, &manifests));
    checks.extend(feature_checks(&manifests, endpoints));
    checks.extend(source_checks(&project));
    (checks, Some(project))
}

fn describe(project: &Project) -> String {
    let target = match &project.target {
        Target::Bin { name, .. } => format!("binary `{name}`"),
        Target::Example { name, .. } => format!("example `{name}`"),
        Target::Lib { .. } => "library".to_owned(),
    };
    format!(
        "package `{}` ({target}) in `{}`",
        project.package_name,
        project.workspace_root.display()
    )
}

struct Manifests {
    member: Option<LocalManifest>,
    workspace: Option<LocalManifest>,
}

impl Manifests {
    fn load(project: &Project) -> Self {
        let workspace = project
            .is_workspace_member()
            .then(|| LocalManifest::load(&project.workspace_manifest).ok())
            .flatten();
        Self {
            member: LocalManifest::load(&project.package_manifest).ok(),
            workspace,
        }
    }

    fn declared(&self, name: &str) -> Option<Declared> {
        manifest::declared(self.member.as_ref()?, self.workspace.as_ref(), name)
    }

    /// Declared features plus the crate's defaults when they are on.
    fn features(&self, name: &str) -> Option<Vec<String>> {
        let declared = self.declared(name)?;
        let mut features = declared.features;
        if declared.default_features {
            let pinned = STACK.iter().find(|d| d.name == name);
            features.extend(
                pinned
                    .into_iter()
                    .flat_map(|d| d.default_features.iter().map(|f| (*f).to_owned())),
            );
        }
        Some(features)
    }
}

fn dependencies(manifests: &Manifests) -> Check {
    let spec = ids::DEPENDENCIES;
    let missing: Vec<&str> = OTEL_CRATES
        .iter()
        .copied()
        .filter(|name| manifests.declared(name).is_none())
        .collect();
    let fix_all = "`cargo otel doctor --fix` (or `cargo otel init`) adds them";
    if missing.len() == OTEL_CRATES.len() {
        return spec
            .error(
                "the package declares no OpenTelemetry crate",
                "`cargo otel init` instruments it",
            )
            .fixable(Remedy::AlignVersions);
    }
    if !missing.is_empty() {
        return spec
            .error(
                format!("missing from [dependencies]: {}", missing.join(", ")),
                fix_all,
            )
            .fixable(Remedy::AlignVersions);
    }
    let behind: Vec<String> = STACK
        .iter()
        .filter(|d| OTEL_CRATES.contains(&d.name))
        .filter_map(|d| {
            let version = manifests.declared(d.name)?.version?;
            (!d.accepts(&version))
                .then(|| format!("{} \"{version}\" (the module needs {})", d.name, d.version))
        })
        .collect();
    if !behind.is_empty() {
        return spec
            .warning(
                format!("declared at versions the generated module does not support: {}", behind.join(", ")),
                "`cargo otel doctor --fix` upgrades them (like `cargo otel init --force`); your own OpenTelemetry code may need changes",
            )
            .fixable(Remedy::AlignVersions);
    }
    spec.ok(format!("declares {}", OTEL_CRATES.join(", ")))
}

fn graph_checks(project: &Project, manifests: &Manifests) -> Vec<Check> {
    let skip_rest = |why: &str| -> Vec<Check> {
        let mut specs: Vec<Spec> = SINGLE.iter().map(|(_, s)| *s).collect();
        specs.push(ids::BRIDGE_MINOR);
        specs
            .into_iter()
            .map(|s| s.skipped(why.to_owned()))
            .collect()
    };
    let (graph, origin) = match Graph::load(&project.workspace_root) {
        Ok(loaded) => loaded,
        Err(error) => {
            let mut checks = vec![ids::RESOLVED.warning(
                format!("could not resolve the dependency graph: {error:#}"),
                "run `cargo generate-lockfile`, then `cargo otel doctor` again",
            )];
            checks.extend(skip_rest("no resolved graph"));
            return checks;
        }
    };
    let resolved = match &origin {
        Origin::Lockfile(path) => ids::RESOLVED.ok(format!(
            "read `{}`",
            paths::display(path, &project.workspace_root)
        )),
        Origin::TemporaryCopy => ids::RESOLVED
            .ok("no Cargo.lock: resolved in a temporary copy (your tree is left as it is)"),
    };
    let Some(root) = graph.node(&project.package_name).cloned() else {
        let mut checks = vec![ids::RESOLVED.warning(
            format!("`{}` is not in Cargo.lock", project.package_name),
            "run `cargo generate-lockfile` (or any build) to bring Cargo.lock up to date",
        )];
        checks.extend(skip_rest("the package is not in the graph"));
        return checks;
    };
    let resolved = match stale(&graph, &root, manifests) {
        Some(stale) => ids::RESOLVED.warning(
            format!("Cargo.lock is behind Cargo.toml: {stale}; the checks below read the lockfile"),
            "`cargo update --workspace` (or any build) brings it up to date",
        ),
        None => resolved,
    };
    let mut checks = vec![resolved];
    for (name, spec) in SINGLE {
        checks.push(single_version(&graph, &root, name, spec));
    }
    checks.push(bridge_matches(&graph, &root));
    checks
}

/// A declared OpenTelemetry crate whose locked version its requirement
/// does not match: the manifest was edited since the last build.
fn stale(graph: &Graph, root: &Node, manifests: &Manifests) -> Option<String> {
    OTEL_CRATES.iter().find_map(|name| {
        let requirement = manifests.declared(name)?.version?;
        let wanted = semver::VersionReq::parse(&requirement).ok()?;
        let locked = graph.dependencies(root).iter().find(|n| n.name == *name)?;
        let version = semver::Version::parse(&locked.version).ok()?;
        (!wanted.matches(&version)).then(|| {
            format!(
                "{name} is locked at {} but Cargo.toml asks for \"{requirement}\"",
                locked.version
            )
        })
    })
}

/// The versions of `name` this package's build reaches, and who pulls each.
fn single_version(graph: &Graph, root: &Node, name: &str, spec: Spec) -> Check {
    let reached: Vec<(&Node, Vec<Node>)> = graph
        .versions(name)
        .into_iter()
        .filter_map(|node| Some((node, graph.path(root, node)?)))
        .collect();
    match reached.as_slice() {
        [] => spec.ok(format!("`{name}` is not used")),
        [(node, _)] => spec.ok(format!("{node}")),
        several => {
            let direct: Option<&Node> = graph.dependencies(root).iter().find(|n| n.name == name);
            let newest = several.last().map(|(n, _)| *n);
            let ours = direct.or(newest);
            let others: Vec<&(&Node, Vec<Node>)> =
                several.iter().filter(|(n, _)| Some(*n) != ours).collect();
            let chains: Vec<String> = others
                .iter()
                .map(|(node, chain)| {
                    let names: Vec<String> = chain.iter().map(ToString::to_string).collect();
                    format!("{} comes from {}", node.version, names.join(" -> "))
                })
                .collect();
            let culprits: Vec<&Node> = others
                .iter()
                .filter_map(|(_, chain)| chain.get(1))
                .collect();
            let ours_text = ours.map_or_else(String::new, |n| format!(" next to {}", n.version));
            let mut check = spec.error(
                format!("{} versions of `{name}`{ours_text}: {}; each has its own globals, so what it records is never exported", several.len(), chains.join("; ")),
                fix_for(culprits.first().copied(), others.first().map(|(n, _)| *n), name),
            );
            if culprits
                .iter()
                .any(|c| OTEL_CRATES.contains(&c.name.as_str()))
            {
                check = check.fixable(Remedy::AlignVersions);
            }
            check
        }
    }
}

fn fix_for(culprit: Option<&Node>, second: Option<&Node>, name: &str) -> String {
    let spec = second.map_or_else(|| name.to_owned(), |n| format!("{}@{}", n.name, n.version));
    match culprit {
        Some(culprit) if OTEL_CRATES.contains(&culprit.name.as_str()) => format!(
            "`cargo otel doctor --fix` moves `{}` to the version the module is built for",
            culprit.name
        ),
        Some(culprit) => format!(
            "upgrade `{}` to a release built for the same opentelemetry (see `cargo tree -i {spec}`), or drop it",
            culprit.name
        ),
        None => format!("see `cargo tree -i {spec}`"),
    }
}

/// tracing-opentelemetry must be built on the opentelemetry the program
/// uses (its minor is opentelemetry's plus one).
fn bridge_matches(graph: &Graph, root: &Node) -> Check {
    let spec = ids::BRIDGE_MINOR;
    let direct = |name: &str| graph.dependencies(root).iter().find(|n| n.name == name);
    let (Some(bridge), Some(otel)) = (direct("tracing-opentelemetry"), direct("opentelemetry"))
    else {
        return spec.ok("the package does not use both tracing-opentelemetry and opentelemetry");
    };
    let bridge_otel = graph
        .dependencies(bridge)
        .iter()
        .find(|n| n.name == "opentelemetry");
    let minor = |n: &Node| semver::Version::parse(&n.version).map(|v| v.minor).ok();
    let matches = match bridge_otel {
        Some(used) => used == otel,
        None => minor(bridge) == minor(otel).map(|m| m + 1),
    };
    if matches {
        return spec.ok(format!("{bridge} on {otel}"));
    }
    let wanted = minor(otel).map_or_else(|| "?".to_owned(), |m| format!("0.{}", m + 1));
    spec.error(
        format!(
            "{bridge} is built for opentelemetry {}, but the package uses {}: spans go to a tracer nobody exports (tracing-opentelemetry's minor must be opentelemetry's plus one)",
            bridge_otel.map_or("?", |n| n.version.as_str()),
            otel.version,
        ),
        format!("set `tracing-opentelemetry = \"{wanted}\"` (`cargo otel doctor --fix` does)"),
    )
    .fixable(Remedy::AlignVersions)
}

fn feature_checks(manifests: &Manifests, endpoints: &[Endpoint]) -> Vec<Check> {
    let Some(features) = manifests.features("opentelemetry-otlp") else {
        let why = "opentelemetry-otlp is not a dependency";
        return vec![
            ids::TRANSPORT.skipped(why),
            ids::TLS.skipped(why),
            ids::ASYNC_CLIENT.skipped(why),
        ];
    };
    let has = |f: &str| features.iter().any(|x| x == f);
    let transport = if has("grpc-tonic") {
        ids::TRANSPORT.ok("opentelemetry-otlp has `grpc-tonic` for the gRPC endpoint")
    } else {
        ids::TRANSPORT
            .error(
                "opentelemetry-otlp lacks `grpc-tonic`: the generated module's gRPC exporter does not compile",
                "add `grpc-tonic` to its features (`cargo otel doctor --fix` does)",
            )
            .fixable(Remedy::AlignVersions)
    };
    let https: Vec<&Endpoint> = endpoints.iter().filter(|e| e.is_https()).collect();
    let tls = match https.first() {
        None => ids::TLS.ok("no https endpoint"),
        Some(endpoint) if !TLS_FEATURES.iter().any(|f| has(f)) => ids::TLS
            .error(
                format!("{} is https, but opentelemetry-otlp has no TLS feature: nothing is exported there", endpoint.describe()),
                "`cargo otel doctor --fix` adds the module's (`tls-ring`, `tls-webpki-roots`), or use an http:// endpoint",
            )
            .fixable(Remedy::AlignVersions),
        Some(endpoint) if !ROOTS_FEATURES.iter().any(|f| has(f)) => ids::TLS
            .warning(
                format!("{} is https, but no trust roots feature is on: only OTEL_EXPORTER_OTLP_CERTIFICATE can verify the collector", endpoint.describe()),
                "`cargo otel doctor --fix` adds `tls-webpki-roots` (Mozilla's roots, which the module uses)",
            )
            .fixable(Remedy::AlignVersions),
        Some(endpoint) => ids::TLS.ok(format!("TLS features on for {}", endpoint.describe())),
    };
    let mut bad: Vec<String> = ASYNC_OTLP
        .iter()
        .filter(|f| has(f))
        .map(|f| format!("opentelemetry-otlp/{f}"))
        .collect();
    if let Some(sdk) = manifests.features("opentelemetry_sdk") {
        bad.extend(
            sdk.iter()
                .filter(|f| ASYNC_SDK.contains(&f.as_str()) || f.ends_with("_with_async_runtime"))
                .map(|f| format!("opentelemetry_sdk/{f}")),
        );
    }
    let async_client = if bad.is_empty() {
        ids::ASYNC_CLIENT.ok("no async HTTP client or async-runtime processor features")
    } else {
        ids::ASYNC_CLIENT.warning(
            format!(
                "{} need a Tokio runtime in the exporting thread; the batch processors run on plain threads and panic with \"there is no reactor running\"",
                bad.join(", ")
            ),
            "remove these features (the gRPC exporter needs none of them)",
        )
    };
    vec![transport, tls, async_client]
}

fn source_checks(project: &Project) -> Vec<Check> {
    let module = project.module_path();
    let module_shown = paths::display(&module, &project.workspace_root);
    let root_shown = paths::display(project.target.root(), &project.workspace_root);
    let Ok(program) = Program::load(&Input::for_project(project)) else {
        let why = format!("`{root_shown}` could not be read or parsed");
        return [
            ids::MODULE,
            ids::INIT_CALLED,
            ids::GUARD_KEPT,
            ids::SECOND_SUBSCRIBER,
        ]
        .iter()
        .map(|s| s.skipped(why.clone()))
        .chain([drift(project, &module, &module_shown)])
        .collect();
    };
    let is_lib = matches!(project.target, Target::Lib { .. });
    let call = match (is_lib, program.main_fn()) {
        (true, _) => Ok(None),
        (false, Some(main)) => Ok(main_fn::init_call(&main.block)),
        (false, None) => Err(()),
    };
    let mut checks = vec![module_check(&program, &module, &module_shown, &root_shown)];
    let module_text = std::fs::read_to_string(&module).unwrap_or_default();
    // Template v3 flushes on `process::exit` itself (Unix).
    let exit_hooked = cfg!(unix) && module_text.contains("libc::atexit(");
    let [called, guard] = main_checks(is_lib, &call, &root_shown, exit_hooked);
    let root_text = &program.files[program.modules[program.root].file].text;
    checks.push(stale_calls(project, &module_text, root_text, &root_shown).unwrap_or(called));
    checks.push(guard);
    checks.push(second_subscriber(&program, &call));
    checks.push(drift(project, &module, &module_shown));
    checks
}

/// Calls that unwrap the `Result` the `init*` of a module before template
/// v3 returned, next to a current module: the crate does not compile.
fn stale_calls(project: &Project, module: &str, root: &str, root_shown: &str) -> Option<Check> {
    let current = codegen::expected_module(&project.dependencies, Some(module), root).ok()?;
    if module != current {
        return None;
    }
    wiring::upgrade_calls(root_shown, root).ok()?.source?;
    Some(
        ids::INIT_CALLED
            .error(
                format!(
                    "`{root_shown}` unwraps what `otel::init*()` returns (`.expect(..)`, `?`), as for a module before template v3: they return the guard itself now, so the crate does not compile"
                ),
                "`cargo otel doctor --fix` drops the `.expect(..)` and `?` (so does `cargo otel init`)",
            )
            .fixable(Remedy::WireMain),
    )
}

fn module_check(program: &Program, module: &Path, module_shown: &str, root_shown: &str) -> Check {
    let spec = ids::MODULE;
    if !module.is_file() {
        return spec
            .error(
                format!("`{module_shown}` does not exist"),
                "`cargo otel doctor --fix` writes it",
            )
            .fixable(Remedy::RegenerateModule);
    }
    // A binary may use the module of its package's library (`demo::otel::init()`).
    if program.declares_otel() || program.lib_declares_otel() {
        return spec.ok(format!("`{module_shown}`, declared in the crate"));
    }
    spec.error(
        format!(
            "`{module_shown}` exists but `{root_shown}` has no `mod otel;`, so it is never compiled"
        ),
        format!("add `mod otel;` to `{root_shown}` (`cargo otel doctor --fix` does)"),
    )
    .fixable(Remedy::WireMain)
}

fn main_checks(
    is_lib: bool,
    call: &Result<Option<InitCall>, ()>,
    root_shown: &str,
    exit_hooked: bool,
) -> [Check; 2] {
    if is_lib {
        let why = "a library: the programs that use it call `otel::init()`";
        return [ids::INIT_CALLED.skipped(why), ids::GUARD_KEPT.skipped(why)];
    }
    let call = match call {
        Err(()) => {
            let why = format!("`{root_shown}` has no plain `fn main` (generated by a macro?)");
            return [
                ids::INIT_CALLED.warning(
                    why.clone(),
                    "call `let _otel = otel::init();` first thing in your real `main`",
                ),
                ids::GUARD_KEPT.skipped(why),
            ];
        }
        Ok(None) => {
            return [
                ids::INIT_CALLED
                    .error(
                        format!("`main` in `{root_shown}` never calls `otel::init()`: nothing is set up to export"),
                        "`cargo otel doctor --fix` adds `let _otel = otel::init()...;` at the top of `main`",
                    )
                    .fixable(Remedy::WireMain),
                ids::GUARD_KEPT.skipped("no `otel::init` call"),
            ];
        }
        Ok(Some(call)) => call,
    };
    let at = format!("`{root_shown}:{}`", call.line);
    let called = ids::INIT_CALLED.ok(format!("`otel::{}()` at {at}", call.function));
    let guard = match (&call.guard, call.exit_after) {
        (Guard::Underscore, _) => ids::GUARD_KEPT
            .error(
                format!("`let _ = otel::{}()` at {at} drops the guard at once: the providers shut down before anything is exported", call.function),
                "bind it to a name: `let _otel = ...` (`cargo otel doctor --fix` does)",
            )
            .fixable(Remedy::WireMain),
        (Guard::Statement, _) => ids::GUARD_KEPT
            .error(
                format!("the guard of `otel::{}()` at {at} is not bound, so it is dropped at the end of that statement", call.function),
                "bind it: `let _otel = ...` (`cargo otel doctor --fix` does)",
            )
            .fixable(Remedy::WireMain),
        (Guard::Kept(name), Some((line, _))) if exit_hooked => ids::GUARD_KEPT.ok(format!(
            "kept in `{name}`; the module flushes on the `std::process::exit` at `{root_shown}:{line}` too"
        )),
        (_, Some((line, true))) => ids::GUARD_KEPT.error(
            format!("`std::process::exit` at `{root_shown}:{line}` ends the program without dropping the guard: the last batch is lost"),
            "return from `main` instead (`fn main() -> ExitCode`), or `drop(_otel)` before exiting",
        ),
        (_, Some((line, false))) => ids::GUARD_KEPT.warning(
            format!("`std::process::exit` at `{root_shown}:{line}` skips the guard's flush on that path"),
            "return from `main` instead, or `drop(_otel)` before exiting",
        ),
        (Guard::Kept(name), None) => ids::GUARD_KEPT.ok(format!("kept in `{name}` until `main` returns")),
        (Guard::Nested, None) => ids::GUARD_KEPT.ok("called inside an expression; make sure the guard lives until `main` returns"),
    };
    [called, guard]
}

/// `otel::init()` installs the global subscriber itself; another one
/// anywhere in the program makes it fail (or the other one panic).
fn second_subscriber(program: &Program, call: &Result<Option<InitCall>, ()>) -> Check {
    let spec = ids::SECOND_SUBSCRIBER;
    let function = call
        .as_ref()
        .ok()
        .and_then(|c| c.as_ref())
        .map(|c| c.function.as_str());
    if function == Some("init_providers") {
        return spec.ok("`otel::init_providers()` leaves the subscriber to the program");
    }
    // `init_without_console()` installs the tracing subscriber only: a `log`
    // logger beside it (env_logger & co.) keeps the console.
    let clashes =
        |kind: Kind| !(function == Some("init_without_console") && kind.global() == Global::Log);
    let found: Vec<String> = program
        .setups()
        .into_iter()
        .filter(|s| program.functions[s.function].inactive.is_none())
        .filter(|s| !in_otel_module(program, s.function) && clashes(s.site.kind))
        .map(|s| {
            format!(
                "`{}` at `{}`",
                s.site.call,
                program.at(s.function, s.site.start.line)
            )
        })
        .collect();
    match (found.first(), function) {
        (None, _) => spec.ok("no other global subscriber or logger"),
        (Some(first), Some(_)) => spec.error(
            format!("{first} installs a global subscriber too: one of the two fails (\"a global default trace dispatcher has already been set\")"),
            "keep one: `cargo otel init` merges a recognizable setup (it calls `otel::init_providers()` and adds `.with(otel::layers())` to your chain), or remove it (`otel::init()` sets up console output on stderr as well)",
        ),
        (Some(first), None) => spec.warning(
            format!("{first} installs a global subscriber, and `otel::init()` is not called"),
            "run `cargo otel init`: it merges the OpenTelemetry layers into a recognizable setup, or prints the lines to add",
        ),
    }
}

/// The generated module itself sets up logging; it is not a second setup.
fn in_otel_module(program: &Program, function: usize) -> bool {
    let module = &program.modules[program.functions[function].module];
    module.path.first().is_some_and(|name| name == "otel")
}

fn drift(project: &Project, module: &Path, shown: &str) -> Check {
    let spec = ids::DRIFT;
    let Ok(existing) = std::fs::read_to_string(module) else {
        return spec.skipped(format!("no `{shown}`"));
    };
    let Ok(generated) =
        codegen::expected_module(&project.dependencies, Some(&existing), &project.root_text())
    else {
        return spec.skipped("the template did not render (a bug in cargo-otel)");
    };
    if existing == generated {
        return spec.ok(format!(
            "`{shown}` is what template v{} writes",
            codegen::TEMPLATE_VERSION
        ));
    }
    match codegen::provenance(Syntax::Rust, &existing) {
        Provenance::Untouched => spec
            .warning(
                format!("`{shown}` was generated by another cargo-otel version and differs from template v{}", codegen::TEMPLATE_VERSION),
                "`cargo otel doctor --fix` regenerates it (it was not edited)",
            )
            .fixable(Remedy::RegenerateModule),
        Provenance::Edited => spec.warning(
            format!("`{shown}` was edited since cargo-otel generated it, and differs from template v{}", codegen::TEMPLATE_VERSION),
            "keep your edits, or `cargo otel init --force --dry-run` to see the current template's diff",
        ),
        Provenance::Foreign => spec.skipped(format!("`{shown}` was not generated by cargo-otel; not compared")),
    }
}

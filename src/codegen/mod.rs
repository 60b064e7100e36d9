//! Files generated from the handlebars templates in `templates/` (embedded in
//! the binary), each stamped so later runs can tell our output from the
//! user's edits.

mod stamp;

use anyhow::Context as _;
use handlebars::Handlebars;

pub use stamp::Provenance;

use crate::{detect::Framework, manifest::STACK};

/// Bumped whenever a template's output changes, so stamps show which one wrote a file.
pub const TEMPLATE_VERSION: u32 = 4;

const OTEL_MODULE: (&str, &str) = ("otel.rs", include_str!("../../templates/otel.rs.hbs"));
/// The framework pieces, appended to the module when the framework is used,
/// and the `log` piece, when the package depends on `log`.
const PARTIALS: [(&str, &str); 7] = [
    ("spans", include_str!("../../templates/otel/spans.rs.hbs")),
    ("axum", include_str!("../../templates/otel/axum.rs.hbs")),
    (
        "actix_web",
        include_str!("../../templates/otel/actix_web.rs.hbs"),
    ),
    ("tonic", include_str!("../../templates/otel/tonic.rs.hbs")),
    (
        "reqwest",
        include_str!("../../templates/otel/reqwest.rs.hbs"),
    ),
    ("hyper", include_str!("../../templates/otel/hyper.rs.hbs")),
    ("log", include_str!("../../templates/otel/log.rs.hbs")),
];
const COMPOSE: (&str, &str) = (
    "compose.otel.yaml",
    include_str!("../../templates/compose.otel.yaml.hbs"),
);

/// The name `init` gives the compose file, at the workspace root.
pub const COMPOSE_FILE_NAME: &str = COMPOSE.0;

/// What kind of comment starts a line in a generated file.
#[derive(Debug, Clone, Copy)]
pub enum Syntax {
    Rust,
    Yaml,
}

impl Syntax {
    fn comment(self) -> &'static str {
        match self {
            Self::Rust => "//",
            Self::Yaml => "#",
        }
    }
}

/// The `otel` module, stamped.
pub fn otel_module() -> anyhow::Result<String> {
    otel_module_for(&Pieces {
        exit_hooks: true,
        ..Pieces::default()
    })
}

/// What the module holds beyond its core.
#[derive(Debug, Clone, Default)]
pub struct Pieces {
    /// The frameworks whose pieces it has.
    pub frameworks: Vec<Framework>,
    /// `hyper_service`, the server span around a hyper service (with hyper
    /// among `frameworks`): only for a program that builds one.
    pub hyper_service: bool,
    /// The piece that passes a `log` logger's records on (the package then
    /// depends on the `log` crate).
    pub log: bool,
    /// The flush on `process::exit` and on signals, whose `unsafe` libc
    /// calls a crate with `#![forbid(unsafe_code)]` cannot compile (no
    /// `allow` lifts a `forbid`); without them the guard's drop still
    /// flushes.
    pub exit_hooks: bool,
}

/// What only the module's `hyper_service` piece declares.
const HYPER_SERVICE: &str = "pub fn hyper_service<";

/// The `otel` module with `pieces`, stamped.
pub fn otel_module_for(pieces: &Pieces) -> anyhow::Result<String> {
    let version_of = |name: &str| {
        let pinned = STACK.iter().find(|d| d.name == name).expect("in the stack");
        pinned.version.to_owned()
    };
    let mut data = serde_json::json!({
        "otel_version": version_of("opentelemetry"),
        "tracing_otel_version": version_of("tracing-opentelemetry"),
    });
    for framework in Framework::ALL {
        data[framework.template_key()] = pieces.frameworks.contains(&framework).into();
    }
    data["hyper_service"] =
        (pieces.hyper_service && pieces.frameworks.contains(&Framework::Hyper)).into();
    // The `http` crate's types, as the program's own framework re-exports them.
    let (http_crate, http_path) = match pieces.frameworks.contains(&Framework::Axum) {
        true => ("axum", "axum::http"),
        false => ("hyper", "hyper"),
    };
    data["http_crate"] = http_crate.into();
    data["http_path"] = http_path.into();
    data["log"] = pieces.log.into();
    data["exit_hooks"] = pieces.exit_hooks.into();
    let body = render(OTEL_MODULE, &data)?;
    Ok(stamp::stamp(Syntax::Rust, OTEL_MODULE.0, &body))
}

/// The module a package's untouched `init` output is: the framework pieces
/// `init` put in `existing` (all it would put in with no module yet, the
/// `hyper_service` piece too) and the `log` piece when the package depends
/// on `log`, with the exit hooks unless the crate root (`root`, its text)
/// forbids `unsafe_code`. For `doctor`.
pub fn expected_module(
    dependencies: &[crate::detect::Dependency],
    existing: Option<&str>,
    root: &str,
) -> anyhow::Result<String> {
    otel_module_for(&Pieces {
        frameworks: crate::detect::instrumented(dependencies, existing),
        hyper_service: existing.is_none_or(|text| text.contains(HYPER_SERVICE)),
        log: log_piece(dependencies),
        exit_hooks: !forbids_unsafe_code(root),
    })
}

/// `#![forbid(unsafe_code)]` at the crate root, which no `allow` can lift.
pub fn forbids_unsafe_code(root: &str) -> bool {
    let Ok(file) = syn::parse_file(root) else {
        return false;
    };
    file.attrs.iter().any(|attr| {
        attr.path().is_ident("forbid")
            && quote::ToTokens::to_token_stream(&attr.meta)
                .to_string()
                .contains("unsafe_code")
    })
}

/// Whether the module of a package with these dependencies has the `log`
/// piece: when the package depends on the `log` crate itself.
pub fn log_piece(dependencies: &[crate::detect::Dependency]) -> bool {
    dependencies.iter().any(|d| d.normal && d.name == "log")
}

impl Pieces {
    /// Every piece there is.
    pub fn all() -> Self {
        Self {
            frameworks: Framework::ALL.to_vec(),
            hyper_service: true,
            log: true,
            exit_hooks: true,
        }
    }
}

/// The docker compose file for the Aspire dashboard, stamped.
pub fn compose_file(application_name: &str) -> anyhow::Result<String> {
    let data = serde_json::json!({ "application_name": application_name });
    let body = render(COMPOSE, &data)?;
    Ok(stamp::stamp(Syntax::Yaml, COMPOSE.0, &body))
}

/// Whether `text` is a file we generated, and if so whether it was edited since.
pub fn provenance(syntax: Syntax, text: &str) -> Provenance {
    stamp::provenance(syntax, text)
}

fn render((name, template): (&str, &str), data: &serde_json::Value) -> anyhow::Result<String> {
    let mut registry = Handlebars::new();
    for (partial, text) in PARTIALS {
        registry.register_partial(partial, text).with_context(|| {
            format!("failed to load the `{partial}` template (a bug in cargo-otel)")
        })?;
    }
    // A missing variable is a bug in cargo-otel, not something to paper over.
    registry.set_strict_mode(true);
    // The output is code, not HTML.
    registry.register_escape_fn(handlebars::no_escape);
    registry
        .render_template(template, data)
        .with_context(|| format!("failed to render the `{name}` template (a bug in cargo-otel)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_stamped_and_untouched() {
        let module = otel_module().unwrap();
        assert!(
            module.starts_with("// @generated by cargo-otel "),
            "{module}"
        );
        assert_eq!(provenance(Syntax::Rust, &module), Provenance::Untouched);
        let compose = compose_file("demo").unwrap();
        assert_eq!(provenance(Syntax::Yaml, &compose), Provenance::Untouched);
        assert!(
            compose.contains("Dashboard__ApplicationName: \"demo\""),
            "{compose}"
        );
    }

    #[test]
    fn a_forbidden_unsafe_code_leaves_out_the_exit_hooks() {
        assert!(forbids_unsafe_code(
            "#![forbid(unsafe_code)]\nfn main() {}\n"
        ));
        assert!(forbids_unsafe_code(
            "//! Doc.\n#![forbid(missing_docs, unsafe_code)]\nfn main() {}\n"
        ));
        assert!(!forbids_unsafe_code(
            "#![deny(unsafe_code)]\nfn main() {}\n"
        ));
        let without = otel_module_for(&Pieces::default()).unwrap();
        assert!(
            !without.contains("unsafe {") && !without.contains("libc::"),
            "{without}"
        );
        assert!(otel_module().unwrap().contains("libc::atexit"));
    }

    #[test]
    fn framework_pieces_only_where_asked() {
        let plain = otel_module().unwrap();
        assert!(
            plain.ends_with("}\n") && !plain.ends_with("\n\n"),
            "{plain}"
        );
        assert!(!plain.contains("\n\n\n"), "{plain}");
        let all = otel_module_for(&Pieces::all()).unwrap();
        for piece in [
            "pub fn http_layer()",
            "pub fn actix_tracing()",
            "pub fn grpc_server_layer()",
            "pub trait SendTraced",
            "pub fn inject_context(",
            HYPER_SERVICE,
            "pub fn set_logger(",
        ] {
            assert!(!plain.contains(piece) && all.contains(piece), "{piece}");
        }
        assert!(!all.contains("\n\n\n"), "{all}");
        assert!(all.ends_with("}\n") && !all.ends_with("\n\n"));
    }

    #[test]
    fn every_published_port_is_loopback_only() {
        let compose = compose_file("demo").unwrap();
        let ports: Vec<&str> = compose
            .lines()
            .filter(|l| l.trim_start().starts_with("- \""))
            .collect();
        assert_eq!(ports.len(), 3, "{compose}");
        assert!(
            ports.iter().all(|p| p.contains("\"127.0.0.1:")),
            "{ports:?}"
        );
    }
}

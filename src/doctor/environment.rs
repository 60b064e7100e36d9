//! The variables the generated module and opentelemetry-otlp 0.33 read, and
//! the ways each one silently stops telemetry (rust-otel notes §3, §4).

use std::collections::BTreeMap;

use super::{Check, ids};

/// The endpoint variable that beats every `OTEL_*` one in the generated module.
pub const OVERRIDE_VAR: &str = "OTLP_GRPC_ENDPOINT";
const GENERIC_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Where the exporter sends when nothing is set.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4317";

/// A snapshot of the variables that matter, so checks are pure functions.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        let relevant =
            |key: &str| key.starts_with("OTEL_") || key.starts_with("OTLP_") || key == "RUST_LOG";
        let vars = std::env::vars().filter(|(key, _)| relevant(key)).collect();
        Self { vars }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self { vars }
    }

    /// The value, if set and not blank (the exporter treats empty as unset).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `(name, value)` of the set variables among the generic one and the
    /// per-signal ones: `OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_,LOGS_}<what>`.
    fn exporter_vars(&self, what: &str) -> Vec<(String, &str)> {
        let names = std::iter::once(format!("OTEL_EXPORTER_OTLP_{what}")).chain(
            Signal::ALL
                .iter()
                .map(|s| format!("OTEL_EXPORTER_OTLP_{}_{what}", s.upper())),
        );
        names
            .filter_map(|name| self.get(&name).map(|value| (name, value)))
            .collect()
    }
}

/// The three OTLP signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Self::Traces, Self::Metrics, Self::Logs];

    fn upper(self) -> &'static str {
        match self {
            Self::Traces => "TRACES",
            Self::Metrics => "METRICS",
            Self::Logs => "LOGS",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Traces => "traces",
            Self::Metrics => "metrics",
            Self::Logs => "logs",
        }
    }
}

/// Where one signal goes, and which setting decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    /// The variable (or `--endpoint`) it came from; `None`: the default.
    pub origin: Option<String>,
    /// Set in code (`with_endpoint`), as the generated module does for
    /// `OTLP_GRPC_ENDPOINT`; otherwise the exporter resolves it itself.
    pub explicit: bool,
}

/// The endpoint the generated module uses for `signal`: `OTLP_GRPC_ENDPOINT`,
/// then `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`, then
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, then `http://localhost:4317`; `--endpoint`
/// beats them all.
pub fn endpoint(env: &Env, signal: Signal, cli: Option<&str>) -> Endpoint {
    if let Some(url) = cli {
        return Endpoint {
            url: url.to_owned(),
            origin: Some("--endpoint".to_owned()),
            explicit: true,
        };
    }
    if let Some(url) = env.get(OVERRIDE_VAR) {
        return Endpoint {
            url: url.to_owned(),
            origin: Some(OVERRIDE_VAR.to_owned()),
            explicit: true,
        };
    }
    let specific = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.upper());
    for name in [specific.as_str(), GENERIC_ENDPOINT] {
        if let Some(url) = env.get(name) {
            return Endpoint {
                url: url.to_owned(),
                origin: Some(name.to_owned()),
                explicit: false,
            };
        }
    }
    Endpoint {
        url: DEFAULT_ENDPOINT.to_owned(),
        origin: None,
        explicit: false,
    }
}

/// The distinct endpoints of the three signals.
pub fn endpoints(env: &Env, cli: Option<&str>) -> Vec<Endpoint> {
    let mut all: Vec<Endpoint> = Vec::new();
    for signal in Signal::ALL {
        let endpoint = endpoint(env, signal, cli);
        if !all.contains(&endpoint) {
            all.push(endpoint);
        }
    }
    all
}

impl Endpoint {
    /// `OTLP_GRPC_ENDPOINT=...`, `--endpoint ...` or `the default ...`.
    pub fn describe(&self) -> String {
        match &self.origin {
            Some(flag) if flag.starts_with("--") => format!("`{flag} {}`", self.url),
            Some(var) => format!("`{var}={}`", self.url),
            None => format!("the default `{}`", self.url),
        }
    }

    pub fn scheme(&self) -> Option<&str> {
        self.url.split_once("://").map(|(scheme, _)| scheme)
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let (_, port) = authority.rsplit_once(':')?;
        port.parse().ok()
    }

    fn path(&self) -> &str {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        rest.find('/').map_or("", |i| &rest[i..])
    }

    pub fn is_https(&self) -> bool {
        // 0.33 treats a schemeless endpoint as https (unless INSECURE is set).
        self.scheme()
            .is_none_or(|s| s.eq_ignore_ascii_case("https"))
    }
}

/// Every environment check.
pub fn check(env: &Env, cli_endpoint: Option<&str>) -> Vec<Check> {
    vec![
        scheme(env, cli_endpoint),
        port(env, cli_endpoint),
        protocol(env),
        timeouts(env),
        sdk_disabled(env),
        sampler(env),
        rust_log(env),
        headers(env),
        url(env, cli_endpoint),
        compression(env),
    ]
}

fn insecure(env: &Env) -> bool {
    env.get("OTEL_EXPORTER_OTLP_INSECURE")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether `signal` goes over TLS: an https endpoint, or a schemeless one
/// without `OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE=true` (the module's rule).
pub fn uses_tls(env: &Env, signal: Signal, cli: Option<&str>) -> bool {
    let endpoint = endpoint(env, signal, cli);
    match endpoint.scheme() {
        Some(scheme) => scheme.eq_ignore_ascii_case("https"),
        None => !signal_setting(env, signal, "INSECURE")
            .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true")),
    }
}

/// `OTEL_EXPORTER_OTLP_<SIGNAL>_<what>` if set, else `OTEL_EXPORTER_OTLP_<what>`:
/// the variable the exporter of `signal` reads, and its value.
pub fn signal_setting<'a>(env: &'a Env, signal: Signal, what: &str) -> Option<(String, &'a str)> {
    [
        format!("OTEL_EXPORTER_OTLP_{}_{what}", signal.upper()),
        format!("OTEL_EXPORTER_OTLP_{what}"),
    ]
    .into_iter()
    .find_map(|name| env.get(&name).map(|value| (name, value)))
}

fn scheme(env: &Env, cli: Option<&str>) -> Check {
    let spec = ids::SCHEME;
    for (name, value) in env.exporter_vars("INSECURE") {
        if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
            return spec.warning(
                format!("{name}={value} is neither true nor false, so it is read as false"),
                format!("`export {name}=true` for a plaintext collector, or unset it"),
            );
        }
    }
    for endpoint in endpoints(env, cli) {
        let shown = endpoint.describe();
        match endpoint.scheme() {
            None if insecure(env) => {
                return spec.warning(
                    format!("{shown} has no scheme; it works only because OTEL_EXPORTER_OTLP_INSECURE=true"),
                    format!("write the scheme: `http://{}`", endpoint.url),
                );
            }
            None => {
                return spec.warning(
                    format!(
                        "{shown} has no scheme, so it is read as https (TLS): a plaintext collector refuses it"
                    ),
                    format!(
                        "write the scheme: `http://{}` for a plaintext collector, `https://{}` for TLS",
                        endpoint.url, endpoint.url
                    ),
                );
            }
            Some(s) if !matches!(s.to_ascii_lowercase().as_str(), "http" | "https") => {
                return spec.error(
                    format!("{shown} has the scheme `{s}`; the exporter takes http:// or https://, so nothing is sent there"),
                    "use `http://host:4317`, or `https://host:4317` for TLS",
                );
            }
            Some(_) => {}
        }
    }
    spec.ok("every endpoint starts with http:// or https://")
}

fn port(env: &Env, cli: Option<&str>) -> Check {
    let spec = ids::PORT;
    let mut notes = Vec::new();
    for endpoint in endpoints(env, cli) {
        let shown = endpoint.describe();
        let fix = || {
            let var = endpoint.origin.as_deref().unwrap_or(OVERRIDE_VAR);
            format!(
                "point it at the OTLP/gRPC port: `{var}=http://localhost:4317` (Aspire and `cargo otel serve` listen there)"
            )
        };
        match endpoint.port() {
            Some(p @ (4318 | 18890)) => {
                return spec.error(
                    format!(
                        "{shown}: port {p} is OTLP/HTTP, but the generated module exports gRPC"
                    ),
                    fix(),
                );
            }
            Some(18888) => {
                return spec.error(
                    format!("{shown}: port 18888 is the dashboard's web page, not OTLP"),
                    fix(),
                );
            }
            _ => {}
        }
        if endpoint.path().starts_with("/v1/") {
            return spec.warning(
                format!(
                    "{shown} ends in `{}`, an OTLP/HTTP path; gRPC ignores it",
                    endpoint.path()
                ),
                "drop the path: gRPC endpoints are `http://host:port`",
            );
        }
        notes.push(endpoint.url);
    }
    spec.ok(format!("gRPC endpoint {}", notes.join(", ")))
}

fn protocol(env: &Env) -> Check {
    let spec = ids::PROTOCOL;
    let other = env
        .exporter_vars("PROTOCOL")
        .into_iter()
        .find(|(_, value)| !value.eq_ignore_ascii_case("grpc"));
    match other {
        Some((name, value)) => spec.warning(
            format!(
                "{name}={value} is ignored: the generated module's exporter always speaks gRPC, so the endpoint must be a gRPC port"
            ),
            format!("`unset {name}` (or set it to `grpc`) and aim the endpoint at port 4317"),
        ),
        None => spec.ok("no protocol set other than grpc"),
    }
}

fn timeouts(env: &Env) -> Check {
    let spec = ids::TIMEOUT;
    for (name, value) in env.exporter_vars("TIMEOUT") {
        match value.parse::<u64>() {
            Err(_) => {
                return spec.error(
                    format!("{name}={value} is not a number of milliseconds; the exporter falls back to 10 s"),
                    format!("`export {name}=10000` (milliseconds)"),
                );
            }
            Ok(ms) if ms < 100 => {
                return spec.warning(
                    format!(
                        "{name}={value} means {ms} ms since opentelemetry-otlp 0.29 (it was seconds): exports will time out"
                    ),
                    format!("`export {name}={}`", ms.max(1) * 1000),
                );
            }
            Ok(_) => {}
        }
    }
    spec.ok("exporter timeouts unset or in plausible milliseconds")
}

fn sdk_disabled(env: &Env) -> Check {
    let spec = ids::SDK_DISABLED;
    match env.get("OTEL_SDK_DISABLED") {
        Some(v) if v.eq_ignore_ascii_case("true") => spec.error(
            "OTEL_SDK_DISABLED=true: the generated module logs to the console only and exports nothing",
            "`unset OTEL_SDK_DISABLED`",
        ),
        _ => spec.ok("OTEL_SDK_DISABLED is not true"),
    }
}

fn sampler(env: &Env) -> Check {
    let spec = ids::SAMPLER;
    let Some(sampler) = env.get("OTEL_TRACES_SAMPLER") else {
        return spec.ok("default sampler (parentbased_always_on)");
    };
    let fix = "`unset OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG` (keeps every span)";
    let lower = sampler.to_ascii_lowercase();
    match lower.as_str() {
        "always_off" | "parentbased_always_off" => spec.error(
            format!("OTEL_TRACES_SAMPLER={sampler} drops every span"),
            fix,
        ),
        "traceidratio" | "parentbased_traceidratio" => {
            let arg = env.get("OTEL_TRACES_SAMPLER_ARG");
            match arg.map(str::parse::<f64>) {
                Some(Ok(ratio)) if ratio <= 0.0 => spec.error(
                    format!("OTEL_TRACES_SAMPLER={sampler} with ratio {ratio} drops every span"),
                    fix,
                ),
                Some(Ok(ratio)) if ratio < 1.0 => spec.ok(format!(
                    "{sampler} keeps about {:.0}% of traces",
                    ratio * 100.0
                )),
                Some(Err(_)) => spec.warning(
                    format!(
                        "OTEL_TRACES_SAMPLER_ARG={} is not a ratio; the SDK falls back to keeping all",
                        arg.unwrap_or_default()
                    ),
                    "`export OTEL_TRACES_SAMPLER_ARG=1.0`",
                ),
                _ => spec.ok(format!("{sampler} keeps every trace")),
            }
        }
        "always_on" | "parentbased_always_on" => spec.ok(format!("{sampler} keeps every span")),
        _ => spec.warning(
            format!("OTEL_TRACES_SAMPLER={sampler} is not a sampler the Rust SDK knows; it falls back to the default"),
            fix,
        ),
    }
}

/// The generated module filters both OpenTelemetry layers with `RUST_LOG`
/// (default `info`): a global `off` exports nothing, `error`/`warn` drops the
/// usual info-level spans.
fn rust_log(env: &Env) -> Check {
    let spec = ids::RUST_LOG;
    let Some(filter) = env.get("RUST_LOG") else {
        return spec.ok("RUST_LOG unset: spans and events at info and above are exported");
    };
    let global = filter
        .split(',')
        .map(str::trim)
        .rfind(|d| !d.contains('=') && !d.contains('['))
        .map(str::to_ascii_lowercase);
    let targeted = filter.split(',').any(|d| d.contains('='));
    match global.as_deref() {
        Some("off") if !targeted => spec.error(
            format!("RUST_LOG={filter} turns off every span and log record"),
            "`export RUST_LOG=info`",
        ),
        Some("error" | "warn") => spec.warning(
            format!(
                "RUST_LOG={filter} drops spans below `{}`, and most spans (`#[instrument]`, request spans) are info or lower",
                global.as_deref().unwrap_or_default()
            ),
            "`export RUST_LOG=info` (or add `your_crate=info`)",
        ),
        _ => spec.ok(format!("RUST_LOG={filter}")),
    }
}

fn headers(env: &Env) -> Check {
    let spec = ids::HEADERS;
    for (name, value) in env.exporter_vars("HEADERS") {
        let bad = value.split(',').map(str::trim).find(|pair| {
            !pair.is_empty()
                && pair
                    .split_once('=')
                    .is_none_or(|(k, _)| k.trim().is_empty())
        });
        if let Some(pair) = bad {
            return spec.error(
                format!("{name} has `{pair}`, not `key=value`; the exporter drops it, so an API key never arrives"),
                format!("`export {name}=x-otlp-api-key=<key>` (comma-separated `key=value` pairs)"),
            );
        }
    }
    spec.ok("exporter headers unset or well formed")
}

/// An endpoint the exporter cannot parse exports nothing (the module says
/// so once at start).
fn url(env: &Env, cli: Option<&str>) -> Check {
    let spec = ids::URL;
    for endpoint in endpoints(env, cli) {
        let full = match endpoint.scheme() {
            Some(_) => endpoint.url.clone(),
            None => format!("https://{}", endpoint.url),
        };
        if let Err(error) = tonic::transport::Endpoint::from_shared(full) {
            return spec.error(
                format!(
                    "{} is not a URL the exporter can use ({error}): nothing is sent there",
                    endpoint.describe()
                ),
                "write it as `http://host:port` (e.g. `http://localhost:4317`)",
            );
        }
    }
    spec.ok("every endpoint parses")
}

/// The generated module has gzip built in, not zstd.
fn compression(env: &Env) -> Check {
    let spec = ids::COMPRESSION;
    for (name, value) in env.exporter_vars("COMPRESSION") {
        let lower = value.to_ascii_lowercase();
        if lower != "gzip" && lower != "none" {
            return spec.warning(
                format!("{name}={value} is not gzip or none, so exports are not compressed"),
                format!("`export {name}=gzip`"),
            );
        }
    }
    spec.ok("exports uncompressed or gzip")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn status(check: Check) -> Status {
        check.status
    }

    #[test]
    fn endpoint_precedence() {
        let env = Env::from_pairs([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4317"),
        ]);
        assert_eq!(
            endpoint(&env, Signal::Traces, None).url,
            "http://generic:4317"
        );
        assert_eq!(endpoint(&env, Signal::Logs, None).url, "http://logs:4317");
        let env = Env::from_pairs([
            (OVERRIDE_VAR, "http://o:1"),
            (GENERIC_ENDPOINT, "http://g:2"),
        ]);
        assert!(endpoint(&env, Signal::Logs, None).explicit);
        assert_eq!(
            endpoint(&env, Signal::Logs, Some("http://cli:3")).url,
            "http://cli:3"
        );
        assert_eq!(
            endpoint(&Env::default(), Signal::Traces, None).url,
            DEFAULT_ENDPOINT
        );
    }

    #[test]
    fn schemeless_and_wrong_ports() {
        let env = Env::from_pairs([(OVERRIDE_VAR, "127.0.0.1:4317")]);
        assert_eq!(status(scheme(&env, None)), Status::Warning);
        let env = Env::from_pairs([(OVERRIDE_VAR, "grpc://127.0.0.1:4317")]);
        assert_eq!(status(scheme(&env, None)), Status::Error);
        let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_INSECURE", "yes")]);
        assert_eq!(status(scheme(&env, None)), Status::Warning);
        let env = Env::from_pairs([
            (OVERRIDE_VAR, "127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ]);
        assert_eq!(status(scheme(&env, None)), Status::Warning);
        let env = Env::from_pairs([(GENERIC_ENDPOINT, "http://localhost:4318")]);
        assert_eq!(status(port(&env, None)), Status::Error);
        let env = Env::from_pairs([(GENERIC_ENDPOINT, "http://localhost:4317/v1/traces")]);
        assert_eq!(status(port(&env, None)), Status::Warning);
        assert_eq!(status(port(&Env::default(), None)), Status::Ok);
    }

    #[test]
    fn variables_that_drop_everything() {
        let env = Env::from_pairs([
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ]);
        assert_eq!(status(sampler(&env)), Status::Error);
        let env = Env::from_pairs([
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ]);
        assert_eq!(status(sampler(&env)), Status::Ok);
        assert_eq!(
            status(rust_log(&Env::from_pairs([("RUST_LOG", "off")]))),
            Status::Error
        );
        assert_eq!(
            status(rust_log(&Env::from_pairs([("RUST_LOG", "warn")]))),
            Status::Warning
        );
        assert_eq!(
            status(rust_log(&Env::from_pairs([("RUST_LOG", "off,demo=info")]))),
            Status::Ok
        );
        assert_eq!(
            status(timeouts(&Env::from_pairs([(
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                "10"
            )]))),
            Status::Warning
        );
        assert_eq!(
            status(timeouts(&Env::from_pairs([(
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                "10s"
            )]))),
            Status::Error
        );
        assert_eq!(
            status(headers(&Env::from_pairs([(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "secret"
            )]))),
            Status::Error
        );
    }

    #[test]
    fn unparsable_urls_and_compression() {
        let env = Env::from_pairs([(OVERRIDE_VAR, "http://exa mple:4317")]);
        assert_eq!(status(url(&env, None)), Status::Error);
        assert_eq!(status(url(&Env::default(), None)), Status::Ok);
        let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd")]);
        assert_eq!(status(compression(&env)), Status::Warning);
        let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP")]);
        assert_eq!(status(compression(&env)), Status::Ok);
    }

    #[test]
    fn tls_follows_the_scheme_and_insecure() {
        let tls =
            |pairs: &[(&str, &str)]| uses_tls(&Env::from_pairs(pairs.to_vec()), Signal::Logs, None);
        assert!(!tls(&[]));
        assert!(tls(&[(GENERIC_ENDPOINT, "https://c:4317")]));
        assert!(tls(&[(GENERIC_ENDPOINT, "c:4317")]));
        assert!(!tls(&[
            (GENERIC_ENDPOINT, "c:4317"),
            ("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "true")
        ]));
    }
}

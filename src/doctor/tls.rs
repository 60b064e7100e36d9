//! The certificate files the generated module reads for https collectors,
//! read the way rustls reads them: `OTEL_EXPORTER_OTLP_[SIGNAL_]CERTIFICATE`
//! (the CA trusted instead of Mozilla's roots), `..._CLIENT_CERTIFICATE` and
//! `..._CLIENT_KEY` (mutual TLS). [`client_config`] gives the round trip the
//! settings the program's exporter would use.

use rustls::{
    RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use super::{
    Check,
    environment::{Env, Signal, endpoint, signal_setting, uses_tls},
    ids,
};

/// Every TLS check.
pub fn check(env: &Env, cli_endpoint: Option<&str>) -> Vec<Check> {
    vec![ca(env), client(env), unused(env, cli_endpoint)]
}

/// What the exporter of `signal` verifies the collector with and presents,
/// for the round trip; `None` when it does not use TLS. A file that cannot
/// be used is left out, as the module leaves it out.
pub fn client_config(env: &Env, signal: Signal, cli: Option<&str>) -> Option<ClientTlsConfig> {
    if !uses_tls(env, signal, cli) {
        return None;
    }
    let read = |what: &str| {
        signal_setting(env, signal, what).and_then(|(_, path)| std::fs::read(path).ok())
    };
    let config = match read("CERTIFICATE") {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)),
        None => ClientTlsConfig::new().with_webpki_roots(),
    };
    match (read("CLIENT_CERTIFICATE"), read("CLIENT_KEY")) {
        (Some(certificate), Some(key)) => {
            Some(config.identity(Identity::from_pem(certificate, key)))
        }
        _ => Some(config),
    }
}

/// The distinct `(variable, value)` pairs the three exporters read for `what`.
fn settings(env: &Env, what: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for signal in Signal::ALL {
        if let Some((name, value)) = signal_setting(env, signal, what) {
            let pair = (name, value.to_owned());
            if !found.contains(&pair) {
                found.push(pair);
            }
        }
    }
    found
}

fn ca(env: &Env) -> Check {
    let spec = ids::TLS_CA;
    let set = settings(env, "CERTIFICATE");
    if set.is_empty() {
        return spec.ok(
            "no CA set: https collectors are verified against Mozilla's roots (built into the module)",
        );
    }
    let mut found = Vec::new();
    for (name, path) in &set {
        match read_ca(path) {
            Ok(count) => found.push(format!("{name}: {count} CA certificate(s) in `{path}`")),
            Err(problem) => {
                return spec.error(
                    format!(
                        "{name}={path} {problem}: the program verifies the collector against Mozilla's roots instead, so a collector whose certificate a private CA signed refuses its exports"
                    ),
                    format!("`export {name}=<the PEM file of the CA that signed the collector's certificate>`"),
                );
            }
        }
    }
    spec.ok(found.join("; "))
}

/// How many usable certificates the PEM file at `path` holds.
fn read_ca(path: &str) -> Result<usize, String> {
    let certificates = read_certificates(path)?;
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(format!(
            "holds {ignored} certificate(s), none of which is a valid X.509 CA certificate"
        ));
    }
    Ok(added)
}

fn read_certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|error| format!("cannot be read ({error})"))?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|error| format!("is not valid PEM ({error})"))?;
    if certificates.is_empty() {
        return Err("holds no `-----BEGIN CERTIFICATE-----` block".to_owned());
    }
    Ok(certificates)
}

fn client(env: &Env) -> Check {
    let spec = ids::TLS_CLIENT;
    let mut pairs: Vec<((String, String), (String, String))> = Vec::new();
    for signal in Signal::ALL {
        let owned = |what: &str| {
            signal_setting(env, signal, what).map(|(name, value)| (name, value.to_owned()))
        };
        match (owned("CLIENT_CERTIFICATE"), owned("CLIENT_KEY")) {
            (None, None) => {}
            (Some((name, _)), None) | (None, Some((name, _))) => {
                return spec.error(
                    format!(
                        "{name} is set without its pair, so the {} exporter presents no client certificate, and a collector that requires one refuses it",
                        signal.name()
                    ),
                    "set both OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY (PEM files), or neither",
                );
            }
            (Some(certificate), Some(key)) => {
                if !pairs.contains(&(certificate.clone(), key.clone())) {
                    pairs.push((certificate, key));
                }
            }
        }
    }
    if pairs.is_empty() {
        return spec.ok("no client certificate set (mutual TLS off)");
    }
    for ((certificate_name, certificate), (key_name, key)) in &pairs {
        if let Err(problem) = check_pair(certificate, key) {
            return spec.error(
                format!(
                    "{certificate_name}={certificate} and {key_name}={key}: {problem}, so no client certificate is presented"
                ),
                "point them at the client certificate (PEM) and its private key (PEM, PKCS#8, PKCS#1 or SEC1)",
            );
        }
    }
    let shown: Vec<String> = pairs
        .iter()
        .map(|((name, _), (key, _))| format!("{name} with {key}"))
        .collect();
    spec.ok(format!("a certificate and its key: {}", shown.join("; ")))
}

/// The certificate and key load, and the key is the certificate's.
fn check_pair(certificate: &str, key: &str) -> Result<(), String> {
    let chain = read_certificates(certificate).map_err(|e| format!("the certificate {e}"))?;
    let pem = std::fs::read(key).map_err(|error| format!("the key cannot be read ({error})"))?;
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|error| format!("the key file holds no private key ({error})"))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|error| format!("rustls cannot sign with the key ({error})"))?;
    rustls::sign::CertifiedKey::new(chain, signing)
        .keys_match()
        .map_err(|error| format!("the key is not the certificate's ({error})"))
}

/// Certificates next to a plaintext endpoint suggest the collector expects TLS.
fn unused(env: &Env, cli: Option<&str>) -> Check {
    let spec = ids::TLS_UNUSED;
    for signal in Signal::ALL {
        if uses_tls(env, signal, cli) {
            continue;
        }
        let set = ["CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"]
            .into_iter()
            .find_map(|what| signal_setting(env, signal, what));
        if let Some((name, _)) = set {
            let target = endpoint(env, signal, cli);
            return spec.warning(
                format!(
                    "{name} is set, but {} is plaintext, so the {} exporter does not use it",
                    target.describe(),
                    signal.name()
                ),
                "use an https:// endpoint, or unset the certificate variables",
            );
        }
    }
    spec.ok("certificates set only for https endpoints, if at all")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn unset_is_fine_and_missing_files_are_errors() {
        let env = Env::default();
        for check in check(&env, None) {
            assert_eq!(check.status, Status::Ok, "{check:?}");
        }
        let env = Env::from_pairs([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/no/such/key.pem"),
        ]);
        let checks = check(&env, None);
        assert_eq!(checks[0].status, Status::Error, "{:?}", checks[0]);
        assert!(
            checks[0].finding.contains("cannot be read"),
            "{:?}",
            checks[0]
        );
        assert_eq!(checks[1].status, Status::Error, "{:?}", checks[1]);
        assert!(
            checks[1].finding.contains("without its pair"),
            "{:?}",
            checks[1]
        );
        assert_eq!(checks[2].status, Status::Ok);
    }

    #[test]
    fn certificates_for_a_plaintext_endpoint_are_unused() {
        let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem")]);
        assert_eq!(unused(&env, None).status, Status::Warning);
        assert_eq!(
            unused(&env, Some("https://collector:4317")).status,
            Status::Ok
        );
        assert!(client_config(&env, Signal::Traces, None).is_none());
        assert!(client_config(&env, Signal::Traces, Some("https://c:4317")).is_some());
    }

    #[test]
    fn a_file_that_is_not_pem_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let path = path.display().to_string();
        assert!(
            read_ca(&path)
                .unwrap_err()
                .contains("no `-----BEGIN CERTIFICATE-----`")
        );
    }
}

//! A certificate authority of the test's own (rcgen): the certificate a TLS
//! collector serves on loopback, a client certificate for mutual TLS, and a
//! second CA that signed neither, written as PEM files.

use std::path::PathBuf;

use super::collector::ServerTls;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// PEM files in a directory that lives as long as this value.
pub(crate) struct Pki {
    /// The CA that signed the server and client certificates.
    pub(crate) ca: PathBuf,
    /// A CA that signed nothing here: trusting it alone must fail.
    pub(crate) other_ca: PathBuf,
    pub(crate) client_certificate: PathBuf,
    pub(crate) client_key: PathBuf,
    server: (String, String),
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Pki {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca = authority("cargo-otel test CA");
        let other = authority("another CA");
        let server = leaf(
            &ca,
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = leaf(&ca, &["e2e-client"], ExtendedKeyUsagePurpose::ClientAuth);
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write a PEM file");
            path
        };
        Self {
            ca: write("ca.pem", &ca.pem()),
            other_ca: write("other-ca.pem", &other.pem()),
            client_certificate: write("client.pem", &client.0),
            client_key: write("client-key.pem", &client.1),
            server,
            ca_pem: ca.pem(),
            _dir: dir,
        }
    }

    /// The collector's side: its certificate, and with `mutual` the CA whose
    /// client certificates it requires.
    pub(crate) fn server(&self, mutual: bool) -> ServerTls {
        ServerTls {
            certificate: self.server.0.clone(),
            key: self.server.1.clone(),
            client_ca: mutual.then(|| self.ca_pem.clone()),
        }
    }
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("a CA key");
    CertifiedIssuer::self_signed(params, key).expect("a self-signed CA")
}

/// A certificate for `names` signed by `ca`, and its key, in PEM.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("leaf parameters");
    params.extended_key_usages = vec![usage];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().expect("a leaf key");
    let certificate = params.signed_by(&key, ca).expect("a signed leaf");
    (certificate.pem(), key.serialize_pem())
}

//! TLS for the guests' HTTPS requests, done by the host with rustls: the system's roots
//! (read once, on the first HTTPS request of the process) and the private CAs of
//! `http.ca_file` in weft.yaml (read when the host is made, so a wrong path is an error at
//! start, not at the first request).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// The process's TLS client settings.
#[derive(Default)]
pub(crate) struct Tls {
    /// The certificates of `http.ca_file`, trusted beside the system's roots.
    extra: Vec<CertificateDer<'static>>,
    config: OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl Tls {
    /// The system's roots, and the PEM certificates in `ca_file` if given.
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let mut extra = Vec::new();
        if let Some(path) = ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read http.ca_file {}: {e}", path.display()))?;
            for cert in certs {
                extra.push(cert.map_err(|e| {
                    format!(
                        "http.ca_file {}: not a PEM certificate: {e}",
                        path.display()
                    )
                })?);
            }
            if extra.is_empty() {
                return Err(format!(
                    "http.ca_file {} holds no PEM certificate",
                    path.display()
                ));
            }
        }
        Ok(Tls {
            extra,
            config: OnceLock::new(),
        })
    }

    /// The client settings, made on first use.
    pub(crate) fn config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .get_or_init(|| {
                let mut roots = RootCertStore::empty();
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
                for cert in &self.extra {
                    roots
                        .add(cert.clone())
                        .map_err(|e| format!("http.ca_file: {e}"))?;
                }
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("TLS: {e}"))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Ok(Arc::new(config))
            })
            .clone()
    }
}

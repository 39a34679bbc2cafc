//! TLS to Redis (`rediss://`): rustls with the system's CA certificates and, when given,
//! those of `--redis-ca-file` (a managed Redis signed by a private CA). A certificate
//! that chains to neither is refused: the bus then stays disconnected and says why.

use std::path::Path;

use fred::types::config::TlsConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// The TLS settings of a `rediss://` connection.
pub(super) fn config(ca_file: Option<&Path>) -> Result<TlsConfig, String> {
    let mut roots = RootCertStore::empty();
    // A system store that cannot be read in part still gives what it could read; a
    // store with nothing usable is only an error when no CA file makes up for it.
    let system = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca_file {
        let shown = path.display();
        let certificates = CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the Redis CA file {shown}: {e}"))?;
        if certificates.is_empty() {
            return Err(format!(
                "the Redis CA file {shown} holds no PEM certificate"
            ));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| format!("a certificate of the Redis CA file {shown}: {e}"))?;
        }
    } else if added == 0 {
        return Err(
            "rediss:// needs CA certificates: the system has none (install ca-certificates) and no --redis-ca-file was given".into(),
        );
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_refused_with_its_path() {
        let missing = config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
        let dir = std::env::temp_dir().join(format!("votewire-redis-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let refused = config(Some(&empty)).unwrap_err();
        assert!(refused.contains("no PEM certificate"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! TLS to the database, with `sslmode` meaning what libpq makes it mean, so that a connection
//! string copied from QGIS or psql behaves the same here:
//!
//! - `disable`: never;
//! - `prefer` (the default) and `require`: encrypted when the server offers it (`require`: or
//!   refused); the certificate is not checked, unless a CA is given, and then its issuer is;
//! - `verify-ca`: the certificate must come from the CA given (`ca_file`, or `sslrootcert` in
//!   the URL), or from one the system trusts;
//! - `verify-full`: that, and it must name the host connected to.
//!
//! tokio-postgres knows only the first three and no `sslrootcert`: those are taken out of the
//! string here and become the verifier given to rustls.

use crate::source::SourceError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What is checked of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Issuer,
    IssuerAndName,
}

/// A connection string made ready: the settings tokio-postgres reads, and the TLS connector
/// every connection to that database uses.
#[derive(Clone)]
pub struct Endpoint {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
}

/// One connection, driven by the caller.
pub type Connection = tokio_postgres::Connection<
    tokio_postgres::Socket,
    <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream,
>;

impl Endpoint {
    pub async fn connect(
        &self,
    ) -> Result<(tokio_postgres::Client, Connection), tokio_postgres::Error> {
        self.config.connect(self.tls.clone()).await
    }
}

/// Parses `url` (the URL or the key=value form), with `ca_file` from the configuration
/// (which wins over the URL's `sslrootcert`).
pub fn prepare(url: &str, ca_file: Option<&Path>) -> Result<Endpoint, SourceError> {
    let (rest, mode, root) = take_tls_settings(url);
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e| SourceError::Invalid(format!("not a PostgreSQL connection string: {e}")))?;
    let ca = ca_file.map(Path::to_path_buf).or(root.map(Into::into));
    let (ssl_mode, check) = match mode.as_deref().unwrap_or("prefer") {
        "disable" => (SslMode::Disable, Check::Nothing),
        m @ ("prefer" | "require") => {
            let check = if ca.is_some() {
                Check::Issuer
            } else {
                Check::Nothing
            };
            let ssl = if m == "prefer" {
                SslMode::Prefer
            } else {
                SslMode::Require
            };
            (ssl, check)
        }
        "verify-ca" => (SslMode::Require, Check::Issuer),
        "verify-full" => (SslMode::Require, Check::IssuerAndName),
        other => {
            return Err(SourceError::Invalid(format!(
                "sslmode={other} is not supported: use disable, prefer, require, verify-ca or verify-full"
            )));
        }
    };
    config.ssl_mode(ssl_mode);
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Nothing => Arc::new(Unchecked(provider())),
        Check::Issuer | Check::IssuerAndName => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(ca.as_deref())?),
                Arc::new(provider()),
            )
            .build()
            .map_err(|e| SourceError::Invalid(format!("the CA certificates: {e}")))?;
            if check == Check::Issuer {
                Arc::new(IssuerOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::Internal(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Endpoint {
        config,
        tls: MakeRustlsConnect::new(tls),
    })
}

fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The connection string without `sslmode` and `sslrootcert`, and their values.
fn take_tls_settings(url: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_string());
            true
        }
        "sslrootcert" => {
            root = Some(value.to_string());
            true
        }
        _ => false,
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), None, None);
        };
        let mut kept = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if !take(&k, &v) {
                kept.append_pair(&k, &v);
            }
        }
        let kept = kept.finish();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{kept}")
        };
        return (rest, mode, root);
    }
    // The key=value form: a value with spaces is quoted, and those two never need to be.
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|pair| match pair.split_once('=') {
            Some((k, v)) => !take(k.trim(), v.trim_matches('\'')),
            None => true,
        })
        .collect();
    (kept.join(" "), mode, root)
}

/// The CA certificates in `file` (PEM), or those the system trusts.
fn roots(file: Option<&Path>) -> Result<RootCertStore, SourceError> {
    let mut store = RootCertStore::empty();
    match file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    SourceError::Invalid(format!(
                        "the CA file {}: not PEM certificates ({e})",
                        path.display()
                    ))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(SourceError::Invalid(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(SourceError::Invalid(
                    "the certificate is to be checked but this system trusts no CA: give the database's `ca_file`".into(),
                ));
            }
        }
    }
    Ok(store)
}

/// `prefer`/`require` with no CA: encrypted against eavesdroppers, as libpq does, with no
/// claim about whom it talks to. The handshake's signatures are still verified.
#[derive(Debug)]
struct Unchecked(CryptoProvider);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must reach a trusted CA; the name in the certificate may differ
/// from the host (a database reached by its address, a certificate made for its name).
#[derive(Debug)]
struct IssuerOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for IssuerOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_settings_are_taken_out_of_both_forms() {
        let (rest, mode, root) = take_tls_settings(
            "postgresql://u:p@db.example:5432/territorio?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        );
        assert_eq!(
            rest,
            "postgresql://u:p@db.example:5432/territorio?application_name=x"
        );
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        let (rest, mode, root) =
            take_tls_settings("host=db.example dbname=territorio sslmode=verify-ca user=u");
        assert_eq!(rest, "host=db.example dbname=territorio user=u");
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(root, None);
        let (rest, mode, _) = take_tls_settings("postgresql://u@h/db");
        assert_eq!((rest.as_str(), mode), ("postgresql://u@h/db", None));
    }

    #[test]
    fn modes_map_to_what_tokio_postgres_knows() {
        let p = prepare("postgresql://u@h/db?sslmode=verify-ca", None);
        // The system may trust no CA in a bare container: then the message says what to do.
        match p {
            Ok(p) => assert_eq!(p.config.get_ssl_mode(), SslMode::Require),
            Err(e) => assert!(e.to_string().contains("ca_file"), "{e}"),
        }
        let p = prepare("postgresql://u@h/db?sslmode=disable", None).unwrap();
        assert_eq!(p.config.get_ssl_mode(), SslMode::Disable);
        let p = prepare("postgresql://u@h/db", None).unwrap();
        assert_eq!(p.config.get_ssl_mode(), SslMode::Prefer);
        let e = prepare("postgresql://u@h/db?sslmode=allow", None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode=allow"), "{e}");
        let e = prepare(
            "postgresql://u@h/db?sslmode=require",
            Some(Path::new("/nessuno.pem")),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("/nessuno.pem"), "{e}");
    }
}

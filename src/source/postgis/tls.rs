//! TLS to the database, with `sslmode` meaning what libpq makes it mean, so that a connection
//! string copied from QGIS or psql behaves the same here:
//!
//! - `disable`: never;
//! - `prefer` (the default) and `require`: encrypted when the server offers it (`require`: or
//!   refused); the certificate is not checked, unless a CA is given, and then its issuer is;
//! - `verify-ca`: the certificate must come from the CA given (`ca_file`, or `sslrootcert` in
//!   the URL); without one it is refused, as libpq refuses it (any certificate a public CA
//!   signed, for any name, would pass);
//! - `verify-full`: from the CA given, or from one the system trusts, and naming the host
//!   connected to.
//!
//! Unlike libpq, `prefer` does not fall back to plain text when a TLS handshake fails.
//!
//! tokio-postgres knows only the first three and no `sslrootcert`: those are taken out of the
//! string here and become the verifier given to rustls.

use crate::source::SourceError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
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
    let (rest, mode, root) = take_tls_settings(url)?;
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e| SourceError::Invalid(format!("not a PostgreSQL connection string: {e}")))?;
    // Reached by address alone, the address is the name its certificate is checked against
    // (and TLS needs a name).
    if config.get_hosts().is_empty()
        && let [addr] = config.get_hostaddrs()
    {
        let addr = addr.to_string();
        config.host(&addr);
    }
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
        "verify-ca" if ca.is_none() => {
            return Err(SourceError::Invalid(
                "sslmode=verify-ca needs the CA that signed the server's certificate: give ca_file (or sslrootcert); to check a certificate against the system's CAs, its name must be checked too: sslmode=verify-full".into(),
            ));
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
        Check::Nothing => Arc::new(Lenient {
            provider: provider(),
            roots: None,
        }),
        Check::Issuer => Arc::new(Lenient {
            provider: provider(),
            roots: Some(roots(ca.as_deref())?),
        }),
        Check::IssuerAndName => WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots(ca.as_deref())?),
            Arc::new(provider()),
        )
        .build()
        .map_err(|e| SourceError::Invalid(format!("the CA certificates: {e}")))?,
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

/// A connection string without `sslmode` and `sslrootcert`, and their values.
type Taken = (String, Option<String>, Option<String>);

/// The connection string without `sslmode` and `sslrootcert`, and their values.
fn take_tls_settings(url: &str) -> Result<Taken, SourceError> {
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
            return Ok((url.to_string(), None, None));
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
        return Ok((rest, mode, root));
    }
    // The key=value form, read as libpq reads it; the others written back quoted.
    let mut kept = Vec::new();
    for (key, value) in key_values(url)? {
        if !take(&key, &value) {
            let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
            kept.push(format!("{key}='{quoted}'"));
        }
    }
    Ok((kept.join(" "), mode, root))
}

/// The pairs of a `key = value …` connection string: spaces around `=` allowed, a value
/// quoted in `'…'` when it holds spaces, `\` escaping the next character.
fn key_values(text: &str) -> Result<Vec<(String, String)>, SourceError> {
    let bad =
        |why: &str| SourceError::Invalid(format!("not a PostgreSQL connection string: {why}"));
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(bad(&format!("`{key}` has no `=` after it")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(bad(&format!("the value of `{key}` has no closing quote"))),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
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

/// The checks short of `verify-full`: with no roots, none (`prefer`/`require` with no CA:
/// encrypted against eavesdroppers, as libpq does, with no claim about whom it talks to);
/// with roots, that the certificate's chain reaches one of them, whatever name it carries
/// (`verify-ca`). The handshake's signatures are verified either way.
#[derive(Debug)]
struct Lenient {
    provider: CryptoProvider,
    roots: Option<RootCertStore>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            verify_server_cert_signed_by_trust_anchor(
                &ParsedCertificate::try_from(end_entity)?,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_settings_are_taken_out_of_both_forms() {
        let (rest, mode, root) = take_tls_settings(
            "postgresql://u:p@db.example:5432/territorio?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgresql://u:p@db.example:5432/territorio?application_name=x"
        );
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        // Spaces around `=`, quotes and escapes, as libpq reads them.
        let (rest, mode, root) = take_tls_settings(
            "host=db.example  dbname = territorio sslmode = verify-ca user=u password='a  b\\'c'",
        )
        .unwrap();
        assert_eq!(
            rest,
            "host='db.example' dbname='territorio' user='u' password='a  b\\'c'"
        );
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(root, None);
        let parsed: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(parsed.get_password(), Some(&b"a  b'c"[..]));
        let (rest, mode, _) = take_tls_settings("postgresql://u@h/db").unwrap();
        assert_eq!((rest.as_str(), mode), ("postgresql://u@h/db", None));
        assert!(take_tls_settings("host='db").is_err());
        assert!(take_tls_settings("host").is_err());
    }

    #[test]
    fn modes_map_to_what_tokio_postgres_knows() {
        // verify-ca against the system's CAs would take any name they signed.
        let e = prepare("postgresql://u@h/db?sslmode=verify-ca", None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("ca_file"), "{e}");
        // Reached by address only: the address is the name.
        let p = prepare("hostaddr=127.0.0.1 user=u", None).unwrap();
        assert_eq!(
            p.config.get_hosts(),
            [tokio_postgres::config::Host::Tcp("127.0.0.1".into())]
        );
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

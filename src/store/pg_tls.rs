//! How the PostgreSQL store's connection is secured: the URL's `sslmode` and `sslrootcert`,
//! read as libpq reads them, carried out with rustls. `disable`: no TLS; `prefer` (the
//! default): TLS when the server offers it, else none; `require`: TLS or no connection; both
//! without checking the server's certificate (encrypted, not authenticated) unless
//! `sslrootcert` is given, which makes `require` a `verify-ca`; `verify-ca`: the certificate
//! is signed by a trusted authority; `verify-full`: and names the host connected to. The
//! trusted authorities are those the Bot API client trusts (webpki-roots) and the ones in
//! `sslrootcert` (a PEM file).

use super::sql::values::DbError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

/// The URL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// No TLS.
    Disable,
    /// TLS if the server offers it.
    Prefer,
    /// TLS, the certificate not checked.
    Require,
    /// TLS, the certificate signed by a trusted authority.
    VerifyCa,
    /// TLS, the certificate signed by a trusted authority and naming the host.
    VerifyFull,
}

/// How a connection is secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    /// The mode in force (`require` with `sslrootcert` is `verify-ca`).
    pub(crate) mode: Mode,
    /// The extra authorities' PEM file (`sslrootcert`).
    pub(crate) root_cert: Option<PathBuf>,
}

impl Tls {
    /// The rustls connector of this mode.
    pub(crate) fn connector(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::Postgres(format!("TLS: {e}")))?;
        let checks = match self.mode {
            Mode::Disable | Mode::Prefer | Mode::Require => None,
            Mode::VerifyCa | Mode::VerifyFull => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(self.roots()?),
                    provider.clone(),
                )
                .build()
                .map_err(|e| DbError::Postgres(format!("TLS: {e}")))?;
                Some((webpki, self.mode == Mode::VerifyFull))
            }
        };
        let verifier = Arc::new(Verifier { provider, checks });
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }

    /// The trusted authorities: webpki-roots and `sslrootcert`'s.
    fn roots(&self) -> Result<RootCertStore, DbError> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(file) = &self.root_cert {
            let refused = |why: String| {
                DbError::Postgres(format!(
                    "sslrootcert {}: {why}; give a PEM file of the certificate authority that signed the server's certificate",
                    file.display()
                ))
            };
            let pem = std::fs::read(file).map_err(|e| refused(e.to_string()))?;
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| refused(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| refused(format!("a certificate is not usable: {e}")))?;
                added += 1;
            }
            if added == 0 {
                return Err(refused("it holds no PEM certificate".into()));
            }
        }
        Ok(roots)
    }
}

/// `url` as tokio-postgres reads it (`sslrootcert` taken out, `verify-ca` and
/// `verify-full` written `require`), and how its connection is secured. A URL
/// (`postgres://…?sslmode=…`) or key=value pairs (`host=… sslmode=…`).
pub(crate) fn split(url: &str) -> Result<(String, Tls), DbError> {
    let (head, pairs, separator) = match url.split_once("://") {
        Some(_) => match url.split_once('?') {
            Some((head, query)) => (format!("{head}?"), query, "&"),
            None => (url.to_string(), "", "&"),
        },
        None => (String::new(), url, " "),
    };
    let mut tls = Tls {
        mode: Mode::Prefer,
        root_cert: None,
    };
    let mut kept = Vec::new();
    for pair in pairs.split(separator).filter(|p| !p.trim().is_empty()) {
        match pair.trim().split_once('=') {
            Some(("sslmode", value)) => {
                tls.mode = match value {
                    "disable" => Mode::Disable,
                    "prefer" | "allow" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(DbError::Postgres(format!(
                            "sslmode={other} is not a mode: use disable, prefer, require, verify-ca or verify-full"
                        )));
                    }
                };
            }
            Some(("sslrootcert", value)) => tls.root_cert = Some(PathBuf::from(value)),
            _ => kept.push(pair.trim().to_string()),
        }
    }
    if tls.mode == Mode::Require && tls.root_cert.is_some() {
        tls.mode = Mode::VerifyCa;
    }
    let sslmode = match tls.mode {
        Mode::Disable => "disable",
        Mode::Prefer => "prefer",
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
    };
    kept.push(format!("sslmode={sslmode}"));
    let url = match head.is_empty() {
        true => kept.join(" "),
        false if head.ends_with('?') => format!("{head}{}", kept.join("&")),
        false => format!("{head}?{}", kept.join("&")),
    };
    Ok((url, tls))
}

/// How the server's certificate is checked: not at all (`prefer`, `require`: the connection
/// is encrypted and its handshake signatures checked, but the server is not authenticated),
/// or against the trusted authorities, for the host's name too or not (`verify-full`,
/// `verify-ca`).
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// The authorities' check, and whether the name counts.
    checks: Option<(Arc<WebPkiServerVerifier>, bool)>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some((webpki, names)) = &self.checks else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !names => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        verify_tls13_signature(
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
    fn sslmode_and_sslrootcert_are_read_and_given_to_tokio_postgres_as_it_reads_them() {
        let (url, tls) = split("postgres://u:p@h:5432/db").expect("a URL");
        assert_eq!(url, "postgres://u:p@h:5432/db?sslmode=prefer");
        assert_eq!(tls.mode, Mode::Prefer);
        let (url, tls) =
            split("postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x")
                .expect("a URL");
        assert_eq!(url, "postgres://u@h/db?application_name=x&sslmode=require");
        assert_eq!(tls.mode, Mode::VerifyFull);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/ca.pem")));
        let (_, tls) = split("postgres://h/db?sslmode=require&sslrootcert=/ca.pem").expect("URL");
        assert_eq!(
            tls.mode,
            Mode::VerifyCa,
            "require with a CA checks it, as libpq does"
        );
        let (url, tls) = split("host=h user=u sslmode=disable").expect("pairs");
        assert_eq!(url, "host=h user=u sslmode=disable");
        assert_eq!(tls.mode, Mode::Disable);
        let wrong = split("postgres://h/db?sslmode=always").expect_err("no such mode");
        assert!(wrong.to_string().contains("verify-full"), "{wrong}");
    }
}

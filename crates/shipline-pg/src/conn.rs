//! Connecting to PostgreSQL the way a Supabase project needs: TLS over rustls with `sslmode`
//! honoured, and nothing that breaks behind a pooler (only the simple query protocol is
//! used by the engine, so no named prepared statements).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use shipline_core::SafeUrl;
use tokio_postgres::config::SslMode;

use crate::PgError;

/// `sslmode`, as libpq reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS when the server offers it, without checking the certificate (libpq's default).
    Prefer,
    /// TLS required, certificate not checked (libpq's `require`).
    Require,
    /// TLS required, certificate checked against the web PKI roots and the host name.
    VerifyFull,
}

/// A parsed connection target.
#[derive(Debug, Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: TlsMode,
    /// For messages.
    pub url: SafeUrl,
}

/// Supabase's transaction pooler: session advisory locks do not survive it.
pub const TRANSACTION_POOLER_PORT: u16 = 6543;

impl Target {
    pub fn parse(url: &SafeUrl) -> Result<Target, PgError> {
        let mut raw = url.expose().clone();
        let mut tls = TlsMode::Prefer;
        let pairs: Vec<(String, String)> = raw
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut kept = Vec::new();
        for (key, value) in pairs {
            if key == "sslmode" {
                tls = match value.as_str() {
                    "disable" => TlsMode::Disable,
                    "allow" | "prefer" => TlsMode::Prefer,
                    "require" => TlsMode::Require,
                    "verify-ca" | "verify-full" => TlsMode::VerifyFull,
                    other => {
                        return Err(PgError::Config(format!(
                            "`sslmode={other}` is not one of `disable`, `prefer`, `require`, `verify-full`"
                        )));
                    }
                };
            } else {
                kept.push((key, value));
            }
        }
        if kept.is_empty() {
            raw.set_query(None);
        } else {
            raw.query_pairs_mut().clear().extend_pairs(kept);
        }
        let mut config: tokio_postgres::Config =
            raw.as_str().parse().map_err(|e: tokio_postgres::Error| {
                PgError::Config(format!(
                    "`{url}` is not a PostgreSQL connection string: {e}"
                ))
            })?;
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        });
        config.application_name("shipline-migrate");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(15));
        }
        Ok(Target {
            config,
            tls,
            url: url.clone(),
        })
    }

    /// Whether the URL points at Supabase's transaction pooler.
    pub fn is_transaction_pooler(&self) -> bool {
        self.config.get_ports().contains(&TRANSACTION_POOLER_PORT)
    }

    /// A new connection; its background task runs on the current runtime.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, PgError> {
        let connect_error = |e: tokio_postgres::Error| PgError::Connect {
            url: self.url.to_string(),
            message: crate::describe(&e),
        };
        let client = match self.tls {
            TlsMode::Disable => {
                let (client, connection) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(connect_error)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
            mode => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(mode)?);
                let (client, connection) = self.config.connect(tls).await.map_err(connect_error)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
        };
        Ok(client)
    }
}

fn client_config(mode: TlsMode) -> Result<rustls::ClientConfig, PgError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Config(format!("TLS setup failed: {e}")))?;
    Ok(if mode == TlsMode::VerifyFull {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    })
}

/// libpq's `require`/`prefer`: encrypt, but do not check who is on the other end. The
/// handshake's signatures are still verified, so the session key is the server's.
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
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

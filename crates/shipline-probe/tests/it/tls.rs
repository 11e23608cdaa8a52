//! TLS servers on loopback with certificates made in the test (rcgen): one valid for 60
//! days (up), one expiring in 3 days (degraded), one expired yesterday (down, with its date),
//! and one from a CA the probe was not told to trust (down).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use shipline_testkit::ActionsStep;

use crate::EXE;

struct Site {
    url: String,
    ca_pem: PathBuf,
    _dir: tempfile::TempDir,
}

/// A TLS site whose certificate is valid from `from_days` to `to_days` from now.
fn site(from_days: i64, to_days: i64) -> Site {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "shipline test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "acme.test");
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now + time::Duration::days(from_days);
    leaf.not_after = now + time::Duration::days(to_days) + time::Duration::hours(1);
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake here.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(
                            "<h1>secure</h1>",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
    });
    Site {
        url: format!("https://127.0.0.1:{port}/"),
        ca_pem,
        _dir: dir,
    }
}

fn probe(s: &Site) -> ActionsStep {
    ActionsStep::push()
        .input("url", &s.url)
        .input("retries", "0")
        .input("expect-text", "secure")
        .input("ca-cert", &s.ca_pem.display().to_string())
}

#[test]
fn a_valid_certificate_is_up_and_its_days_are_shown() {
    let s = site(-1, 60);
    let result = probe(&s).run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["status"], "up");
    assert!(result.summary.contains("| 60 days |"), "{}", result.summary);
}

#[test]
fn a_certificate_expiring_within_cert_min_days_is_degraded() {
    let s = site(-80, 3);
    let result = probe(&s).run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["status"], "degraded");
    assert!(
        result
            .stdout
            .contains("::warning title=probe%3A degraded::")
            && result
                .stdout
                .contains("the TLS certificate expires in 3 day(s)")
            && result.stdout.contains("(`cert-min-days` 14): renew it"),
        "{}",
        result.stdout
    );
    let result = probe(&s).input("cert-min-days", "2").run(EXE, &[]);
    assert_eq!(result.outputs["status"], "up", "{}", result.everything());
}

#[test]
fn an_expired_certificate_is_down_with_its_date() {
    let s = site(-90, -2);
    let result = probe(&s).run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["status"], "down");
    assert!(
        result.stdout.contains("the TLS certificate expired on")
            && result.stdout.contains("day(s) ago)"),
        "{}",
        result.stdout
    );
}

#[test]
fn an_untrusted_certificate_is_down() {
    let s = site(-1, 60);
    let result = ActionsStep::push()
        .input("url", &s.url)
        .input("retries", "0")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("TLS handshake with 127.0.0.1 failed"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("UnknownIssuer") || result.stdout.contains("unknown issuer"),
        "{}",
        result.stdout
    );
}

//! One HTTP request, taken apart: DNS, connect, TLS and time to first byte are measured
//! separately (a slow site is slow somewhere, and the history shows where), and the server's
//! certificate is kept even when verification refuses it, so an expired certificate is
//! reported with its date rather than as a bare handshake error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use shipline_core::SafeUrl;

/// The most of a body that is read (a health endpoint answers in bytes, not megabytes).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What to send.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout: Duration,
    pub max_redirects: u32,
}

/// Where the time went, for the last hop (redirects add to `total` only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub dns: Duration,
    pub connect: Duration,
    pub tls: Option<Duration>,
    /// From the request written to the response's head.
    pub ttfb: Duration,
    /// Everything, every hop, body included.
    pub total: Duration,
}

/// The server certificate of an `https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Seconds since the epoch.
    pub not_after: i64,
    pub subject: String,
}

impl Certificate {
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub final_url: SafeUrl,
    pub redirects: u32,
    pub timings: Timings,
    pub certificate: Option<Certificate>,
}

/// No answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub message: String,
    pub timings: Timings,
    /// The certificate seen, when the handshake got that far (an expired one, say).
    pub certificate: Option<Certificate>,
}

/// TLS settings shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Tls {
    roots: Arc<RootCertStore>,
}

impl Tls {
    /// The web PKI roots, plus the PEM certificates of `extra` (an internal CA).
    pub fn new(extra: &[CertificateDer<'static>]) -> Result<Tls, String> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra {
            roots
                .add(cert.clone())
                .map_err(|e| format!("a `ca-cert` certificate is unusable: {e}"))?;
        }
        Ok(Tls {
            roots: Arc::new(roots),
        })
    }
}

/// Verifies with webpki, remembering the end-entity certificate first.
#[derive(Debug)]
struct Keep {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Keep {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.clone().into_owned());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn certificate(der: &CertificateDer<'_>) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(Certificate {
        not_after: cert.validity().not_after.timestamp(),
        subject: cert.subject().to_string(),
    })
}

/// Requests `url`, following redirects up to `spec.max_redirects`, within `spec.timeout`.
pub async fn fetch(url: &SafeUrl, spec: &RequestSpec, tls: &Tls) -> Result<Answer, FetchError> {
    let started = Instant::now();
    match tokio::time::timeout(spec.timeout, follow(url, spec, tls, started)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError {
            message: format!(
                "no complete answer within `timeout` ({} ms)",
                spec.timeout.as_millis()
            ),
            timings: Timings {
                total: started.elapsed(),
                ..Timings::default()
            },
            certificate: None,
        }),
    }
}

async fn follow(
    url: &SafeUrl,
    spec: &RequestSpec,
    tls: &Tls,
    started: Instant,
) -> Result<Answer, FetchError> {
    let mut current = url.clone();
    // Compared as they are, shown redacted (a query may hold a key).
    let mut seen = vec![current.expose().to_string()];
    let mut shown = vec![current.to_string()];
    let mut method = spec.method.clone();
    let mut body = spec.body.clone();
    let mut headers = spec.headers.clone();
    let mut redirects = 0;
    loop {
        let mut answer = once(&current, &method, &headers, body.as_deref(), tls).await?;
        answer.timings.total = started.elapsed();
        answer.redirects = redirects;
        let location = (300..400)
            .contains(&answer.status)
            .then_some(())
            .and(answer.location.take());
        let Some(location) = location else {
            return Ok(answer.done());
        };
        let next = current.expose().join(&location).map_err(|e| FetchError {
            message: format!("{current} redirected to a location that is not a URL ({e})"),
            timings: answer.timings,
            certificate: answer.certificate.clone(),
        })?;
        let next_shown = SafeUrl::from(next.clone()).to_string();
        if seen.contains(&next.to_string()) {
            return Err(FetchError {
                message: format!("redirect loop: {} → {next_shown}", shown.join(" → ")),
                timings: answer.timings,
                certificate: answer.certificate,
            });
        }
        if redirects == spec.max_redirects {
            return Err(FetchError {
                message: format!(
                    "more than {} redirect(s): {} → {next_shown}",
                    spec.max_redirects,
                    shown.join(" → ")
                ),
                timings: answer.timings,
                certificate: answer.certificate,
            });
        }
        // 303, and 301/302 after a POST, become a GET without a body (as browsers do).
        if answer.status == 303 || (matches!(answer.status, 301 | 302) && method == "POST") {
            method = "GET".into();
            body = None;
        }
        // The step's headers (an API key) go to the origin they were written for only, as a
        // browser drops `Authorization` on a cross-origin redirect.
        if next.origin() != current.expose().origin() {
            headers.clear();
        }
        seen.push(next.to_string());
        shown.push(next_shown);
        current = SafeUrl::from(next);
        redirects += 1;
    }
}

struct Hop {
    status: u16,
    body: Bytes,
    url: SafeUrl,
    location: Option<String>,
    timings: Timings,
    certificate: Option<Certificate>,
    redirects: u32,
}

impl Hop {
    fn done(self) -> Answer {
        Answer {
            status: self.status,
            body: self.body,
            final_url: self.url,
            redirects: self.redirects,
            timings: self.timings,
            certificate: self.certificate,
        }
    }
}

async fn once(
    url: &SafeUrl,
    method: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    tls: &Tls,
) -> Result<Hop, FetchError> {
    let u = url.expose();
    let mut timings = Timings::default();
    let fail = |message: String, timings: Timings, certificate: Option<Certificate>| FetchError {
        message,
        timings,
        certificate,
    };
    let host = u
        .host_str()
        .ok_or_else(|| fail(format!("{url} has no host"), timings, None))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let https = u.scheme() == "https";
    let port = u
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });

    let t = Instant::now();
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| fail(format!("DNS lookup of `{host}` failed: {e}"), timings, None))?
        .collect();
    timings.dns = t.elapsed();

    let t = Instant::now();
    let mut last = None;
    let mut tcp = None;
    for addr in &addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(format!("{addr}: {e}")),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        fail(
            format!(
                "could not connect to {host}:{port}: {}",
                last.unwrap_or_else(|| "no address".into())
            ),
            timings,
            None,
        )
    })?;
    let _ = tcp.set_nodelay(true);
    timings.connect = t.elapsed();

    let authority = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
        None => u.host_str().unwrap_or_default().to_owned(),
    };
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .header(hyper::header::HOST, authority)
        .header(
            hyper::header::USER_AGENT,
            concat!("shipline-probe/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if body.is_some()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        request = request.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default().to_owned())))
        .map_err(|e| fail(format!("cannot build the request: {e}"), timings, None))?;

    let (status, location, bytes, certificate) = if https {
        let keep = Arc::new(Keep {
            inner: WebPkiServerVerifier::builder(tls.roots.clone())
                .build()
                .map_err(|e| fail(format!("TLS setup: {e}"), timings, None))?,
            seen: Mutex::new(None),
        });
        let mut config = rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(keep.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = ServerName::try_from(host.clone()).map_err(|e| {
            fail(
                format!("`{host}` is not a TLS server name: {e}"),
                timings,
                None,
            )
        })?;
        let t = Instant::now();
        let handshake = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await;
        timings.tls = Some(t.elapsed());
        let certificate = keep
            .seen
            .lock()
            .ok()
            .and_then(|s| s.as_ref().and_then(certificate));
        let stream = handshake.map_err(|e| {
            fail(
                format!("TLS handshake with {host} failed: {e}"),
                timings,
                certificate.clone(),
            )
        })?;
        let (status, location, bytes) = exchange(stream, request, &mut timings)
            .await
            .map_err(|m| fail(m, timings, certificate.clone()))?;
        (status, location, bytes, certificate)
    } else {
        let (status, location, bytes) = exchange(tcp, request, &mut timings)
            .await
            .map_err(|m| fail(m, timings, None))?;
        (status, location, bytes, None)
    };
    Ok(Hop {
        status,
        body: bytes,
        url: url.clone(),
        location,
        timings,
        certificate,
        redirects: 0,
    })
}

async fn exchange<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
    timings: &mut Timings,
) -> Result<(u16, Option<String>, Bytes), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let t = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    timings.ttfb = t.elapsed();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(response.into_body(), BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| format!("the answer's body could not be read: {e}"))?
        .to_bytes();
    Ok((status, location, body))
}

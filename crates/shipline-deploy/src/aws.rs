//! AWS Signature Version 4 on our HTTP requests, with the `aws-sigv4` crate (the AWS SDK for
//! Rust's own signer), and the endpoints of the two services `amplify` talks to.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use shipline_core::{EnvVars, SafeUrl};
use shipline_hosting::AwsCredentials;
use shipline_http::Request;

use crate::provider::DeployError;

/// Signs `request` for `service` in `region`; S3 also gets `x-amz-content-sha256`.
pub fn sign_request(
    request: Request,
    service: &str,
    region: &str,
    credentials: &AwsCredentials,
) -> Result<Request, DeployError> {
    let failed = |e: &dyn std::fmt::Display| {
        DeployError::Failed(format!("could not sign the AWS request: {e}"))
    };
    let identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "shipline",
    )
    .into();
    let mut settings = SigningSettings::default();
    if service == "s3" {
        // S3 signs the path as sent (no second encoding) and wants the payload's digest.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = request.body.clone().unwrap_or_default();
    let url = request.url.expose().as_str().to_owned();
    let signable = SignableRequest::new(
        request.method.as_str(),
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    let mut signed = request;
    for (name, value) in instructions.headers() {
        let sensitive = name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("x-amz-security-token");
        signed = signed.header_named(name, value, sensitive);
    }
    Ok(signed)
}

/// The Amplify endpoint: `AWS_ENDPOINT_URL_AMPLIFY`, else the region's.
pub fn amplify_endpoint(
    get: impl Fn(&str) -> Option<String>,
    region: &str,
) -> Result<SafeUrl, String> {
    endpoint(
        get,
        EnvVars::AWS_ENDPOINT_URL_AMPLIFY,
        &format!("https://amplify.{region}.amazonaws.com"),
    )
}

/// Where an S3 object is: path-style under `AWS_ENDPOINT_URL_S3` when set (tests,
/// S3-compatible stores), else the bucket's virtual-hosted regional endpoint.
pub fn s3_object_url(
    get: impl Fn(&str) -> Option<String>,
    region: &str,
    bucket: &str,
    key: &str,
) -> Result<SafeUrl, String> {
    /// RFC 3986 unreserved characters stay as they are.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let key: String = key
        .split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/");
    match get(EnvVars::AWS_ENDPOINT_URL_S3).filter(|v| !v.trim().is_empty()) {
        Some(base) => SafeUrl::parse(&format!("{}/{bucket}/{key}", base.trim_end_matches('/')))
            .map_err(|e| format!("`{}` is not a URL: {e}", EnvVars::AWS_ENDPOINT_URL_S3)),
        None => SafeUrl::parse(&format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"))
            .map_err(|e| e.to_string()),
    }
}

fn endpoint(
    get: impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<SafeUrl, String> {
    match get(name).filter(|v| !v.trim().is_empty()) {
        Some(v) => SafeUrl::parse(v.trim()).map_err(|e| format!("`{name}` is not a URL: {e}")),
        None => SafeUrl::parse(default).map_err(|e| e.to_string()),
    }
}

//! AWS Signature Version 4 on our HTTP requests, with the `aws-sigv4` crate (the AWS SDK for
//! Rust's own signer), and the endpoints of the two services `amplify` talks to.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_hosting::{AwsAuth, AwsCredentials, WebToken};
use shipline_http::{HttpClient, Request};

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
    let key = crate::provider::encode_path(key);
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

/// The STS endpoint: `AWS_ENDPOINT_URL_STS`, else the region's.
pub fn sts_endpoint(get: impl Fn(&str) -> Option<String>, region: &str) -> Result<SafeUrl, String> {
    endpoint(
        get,
        EnvVars::AWS_ENDPOINT_URL_STS,
        &format!("https://sts.{region}.amazonaws.com"),
    )
}

/// Credentials for `auth`: the keys as given, or a role assumed with an OIDC token
/// (`AssumeRoleWithWebIdentity`, which is not itself signed).
pub async fn resolve(
    http: &HttpClient,
    auth: &AwsAuth,
    sts: &SafeUrl,
) -> Result<AwsCredentials, DeployError> {
    let (role_arn, token, session_name) = match auth {
        AwsAuth::Keys(keys) => return Ok(keys.clone()),
        AwsAuth::WebIdentity {
            role_arn,
            token,
            session_name,
        } => (role_arn, token, session_name),
    };
    let jwt = match token {
        WebToken::File(path) => Secret::new(
            std::fs::read_to_string(path)
                .map_err(|e| {
                    DeployError::Input(InputError::new(
                        EnvVars::AWS_WEB_IDENTITY_TOKEN_FILE,
                        format!("cannot read `{}`: {e}", path.display()),
                    ))
                })?
                .trim()
                .to_owned(),
        ),
        WebToken::GitHub {
            request_url,
            request_token,
        } => {
            let mut url = SafeUrl::parse(request_url)
                .map_err(|e| DeployError::Failed(format!("`ACTIONS_ID_TOKEN_REQUEST_URL`: {e}")))?
                .into_inner();
            url.query_pairs_mut()
                .append_pair("audience", "sts.amazonaws.com");
            let answer: serde_json::Value = http
                .send_ok(Request::get(SafeUrl::from(url)).bearer(request_token))
                .await
                .map_err(|e| DeployError::Failed(format!("the runner gave no OIDC token: {e}")))?
                .json()?;
            Secret::new(answer["value"].as_str().unwrap_or_default().to_owned())
        }
    };
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role_arn)
        .append_pair("RoleSessionName", session_name)
        .append_pair("DurationSeconds", "3600")
        .append_pair("WebIdentityToken", jwt.expose())
        .finish();
    // Assuming a role twice gives two sessions of it: harmless.
    let response = http
        .send_ok(
            Request::post(sts.clone())
                .bytes(Bytes::from(form), "application/x-www-form-urlencoded")
                .idempotent(),
        )
        .await
        .map_err(|e| match e.status() {
            Some(400 | 403) => DeployError::Input(InputError::new(
                match token {
                    WebToken::File(_) => EnvVars::AWS_ROLE_ARN,
                    WebToken::GitHub { .. } => "role-to-assume",
                },
                format!(
                    "AWS would not let this job assume `{role_arn}` ({e}): the role's trust policy must allow `token.actions.githubusercontent.com` for this repository"
                ),
            )),
            _ => DeployError::Http(e),
        })?;
    let xml = response.text();
    let tag = |name: &str| -> Option<String> {
        let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + xml[start..].find(&format!("</{name}>"))?;
        Some(xml[start..end].trim().to_owned())
    };
    match (
        tag("AccessKeyId"),
        tag("SecretAccessKey"),
        tag("SessionToken"),
    ) {
        (Some(access_key_id), Some(secret), Some(token)) => Ok(AwsCredentials {
            access_key_id,
            secret_access_key: Secret::new(secret),
            session_token: Some(Secret::new(token)),
        }),
        _ => Err(DeployError::Failed(
            "STS's AssumeRoleWithWebIdentity answer has no credentials".into(),
        )),
    }
}

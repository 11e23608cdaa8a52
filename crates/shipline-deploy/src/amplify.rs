//! AWS Amplify Hosting by manual deployment (an app without a Git connection):
//! `CreateDeployment` → the zip to the URL it returns → `StartDeployment` → `GetJob` until
//! `SUCCEED`. Every call is SigV4-signed ([`crate::aws`]).
//!
//! A manual deployment goes live on its branch at once, and Amplify has no promote. So a
//! production deploy is staged on the branch [`STAGING_BRANCH`] and verified there; its zip
//! is kept in `artifact-store` (`s3://bucket/prefix/<staged id>.zip`); production is then
//! started from that object (`StartDeployment` with `sourceUrl`), so it serves the verified
//! bytes without a second upload. A rollback starts production from a recorded release's
//! object the same way: one call and a job, no build.

use std::time::Instant;

use bytes::Bytes;
use serde_json::{Value, json};
use shipline_core::{InputError, SafeUrl};
use shipline_hosting::{AwsAuth, AwsCredentials, S3Location};
use shipline_http::{HttpClient, HttpError, Method, Request};

use crate::aws::{self, sign_request};
use crate::provider::{DeployError, Provider, StageRequest, Staged, Switch, before_next_poll};
use crate::site::Site;

/// The branch production deploys are verified on first.
pub const STAGING_BRANCH: &str = "shipline-verify";

pub struct Amplify {
    pub http: HttpClient,
    pub api: SafeUrl,
    pub app_id: String,
    /// The production branch, when given; else the app's.
    pub branch: Option<String>,
    pub region: String,
    pub auth: AwsAuth,
    /// STS, for a role assumed with OIDC.
    pub sts: SafeUrl,
    /// The credentials `auth` gave, got once per run.
    pub credentials: tokio::sync::OnceCell<AwsCredentials>,
    pub store: Option<S3Location>,
    /// `AWS_ENDPOINT_URL_S3`, read at start.
    pub s3_endpoint: Option<String>,
}

/// A deterministic zip of the site: sorted paths, a fixed time, so the same site gives the
/// same bytes.
pub fn zip_site(site: &Site) -> Result<Bytes, DeployError> {
    use std::io::Write as _;
    let failed =
        |e: &dyn std::fmt::Display| DeployError::Failed(format!("could not zip the site: {e}"));
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        for file in &site.files {
            let content = std::fs::read(&file.source).map_err(|e| {
                DeployError::Failed(format!("could not read `{}`: {e}", file.source.display()))
            })?;
            zip.start_file(file.path.as_str(), options)
                .map_err(|e| failed(&e))?;
            zip.write_all(&content).map_err(|e| failed(&e))?;
        }
        zip.finish().map_err(|e| failed(&e))?;
    }
    Ok(Bytes::from(cursor.into_inner()))
}

/// `https://<branch>.<default domain>`, as Amplify serves a branch (slashes become dashes).
/// A loopback default domain (a local mock of the API) serves branches by path instead.
pub fn branch_url(branch: &str, default_domain: &str) -> String {
    let label = branch.replace('/', "-");
    if default_domain.starts_with("127.0.0.1") || default_domain.starts_with("localhost") {
        format!("http://{default_domain}/_branches/{label}/")
    } else {
        format!("https://{label}.{default_domain}")
    }
}

/// A record's id is `<branch>-<job id>` (job ids are numbers).
fn split_id(id: &str) -> Option<(&str, &str)> {
    let (branch, job) = id.rsplit_once('-')?;
    (!branch.is_empty() && !job.is_empty() && job.chars().all(|c| c.is_ascii_digit()))
        .then_some((branch, job))
}

impl Amplify {
    fn url(&self, path: &str) -> Result<SafeUrl, DeployError> {
        self.api
            .join_path(path)
            .map_err(|e| DeployError::Failed(format!("bad `AWS_ENDPOINT_URL_AMPLIFY`: {e}")))
    }

    fn explain(&self, error: HttpError) -> DeployError {
        match error.status() {
            Some(401 | 403) => DeployError::Input(InputError::new(
                "AWS_ACCESS_KEY_ID",
                format!(
                    "AWS refused the credentials ({error}): the role needs `amplify:GetApp`, `GetBranch`, `CreateBranch`, `CreateDeployment`, `StartDeployment`, `GetJob`, and `s3:PutObject`/`GetObject` on `artifact-store`"
                ),
            )),
            Some(404) => DeployError::Input(InputError::new(
                "project",
                format!(
                    "Amplify has no app `{}` in `{}`: {error}",
                    self.app_id, self.region
                ),
            )),
            _ => DeployError::Http(error),
        }
    }

    async fn credentials(&self) -> Result<&AwsCredentials, DeployError> {
        self.credentials
            .get_or_try_init(|| aws::resolve(&self.http, &self.auth, &self.sts))
            .await
    }

    async fn sign(&self, request: Request, service: &str) -> Result<Request, DeployError> {
        sign_request(request, service, &self.region, self.credentials().await?)
    }

    async fn send(&self, request: Request) -> Result<Value, DeployError> {
        let signed = self.sign(request, "amplify").await?;
        let response = self
            .http
            .send_ok(signed)
            .await
            .map_err(|e| self.explain(e))?;
        Ok(response.json()?)
    }

    /// A GET whose 404 is an answer (a branch or job that does not exist).
    async fn get_optional(&self, path: &str) -> Result<Option<Value>, DeployError> {
        let signed = self.sign(Request::get(self.url(path)?), "amplify").await?;
        let response = self.http.send(signed).await?;
        if response.status.as_u16() == 404 {
            return Ok(None);
        }
        Ok(Some(
            response
                .error_for_status()
                .map_err(|e| self.explain(e))?
                .json()?,
        ))
    }

    async fn app(&self) -> Result<Value, DeployError> {
        let answer = self
            .send(Request::get(self.url(&format!("apps/{}", self.app_id))?))
            .await?;
        Ok(answer["app"].clone())
    }

    fn production_branch(&self, app: &Value) -> String {
        self.branch
            .clone()
            .or_else(|| {
                app["productionBranch"]["branchName"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "main".to_owned())
    }

    async fn ensure_branch(&self, branch: &str, stage: &str) -> Result<(), DeployError> {
        let path = format!("apps/{}/branches/{branch}", self.app_id);
        if self.get_optional(&path).await?.is_some() {
            return Ok(());
        }
        // Creating a branch that a parallel run just created fails; the next call finds it.
        let body = json!({ "branchName": branch, "stage": stage, "enableAutoBuild": false });
        self.send(Request::post(self.url(&format!("apps/{}/branches", self.app_id))?).json(&body))
            .await?;
        Ok(())
    }

    async fn start(&self, branch: &str, body: &Value) -> Result<String, DeployError> {
        let path = format!("apps/{}/branches/{branch}/deployments/start", self.app_id);
        let answer = self
            .send(Request::post(self.url(&path)?).json(body))
            .await?;
        answer["jobSummary"]["jobId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                DeployError::Failed("Amplify's StartDeployment answer has no job id".into())
            })
    }

    /// Polls the job until it succeeded.
    async fn wait_job(
        &self,
        branch: &str,
        job: &str,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let started = Instant::now();
        let path = format!("apps/{}/branches/{branch}/jobs/{job}", self.app_id);
        loop {
            let answer = self.send(Request::get(self.url(&path)?)).await?;
            match answer["job"]["summary"]["status"]
                .as_str()
                .unwrap_or_default()
            {
                "SUCCEED" => return Ok(()),
                status @ ("FAILED" | "CANCELLED" | "CANCELLING") => {
                    let reason = answer["job"]["steps"]
                        .as_array()
                        .and_then(|s| s.iter().find_map(|st| st["statusReason"].as_str()))
                        .unwrap_or("no reason given");
                    return Err(DeployError::Failed(format!(
                        "Amplify job {job} on `{branch}` ended {status}: {reason}"
                    )));
                }
                _ => {}
            }
            before_next_poll(started, deadline, || {
                format!("waiting for Amplify job {job} on `{branch}`")
            })
            .await?;
        }
    }

    fn store(&self) -> Result<&S3Location, DeployError> {
        self.store.as_ref().ok_or_else(|| {
            DeployError::Input(InputError::new(
                "artifact-store",
                "is required to promote or roll back on Amplify: the release's zip is kept there so production can be started from it",
            ))
        })
    }

    fn object_url(&self, store: &S3Location, id: &str) -> Result<SafeUrl, DeployError> {
        aws::s3_object_url(
            |_| self.s3_endpoint.clone(),
            &self.region,
            &store.bucket,
            &store.key(&format!("{id}.zip")),
        )
        .map_err(DeployError::Failed)
    }

    /// What Amplify is told to deploy from: the release's object.
    fn source_url(store: &S3Location, id: &str) -> String {
        format!("s3://{}/{}", store.bucket, store.key(&format!("{id}.zip")))
    }

    async fn object_exists(&self, store: &S3Location, id: &str) -> Result<bool, DeployError> {
        let request = Request::new(Method::HEAD, self.object_url(store, id)?);
        let signed = self.sign(request, "s3").await?;
        let response = self.http.send(signed).await?;
        match response.status.as_u16() {
            404 => Ok(false),
            _ => response
                .error_for_status()
                .map(|_| true)
                .map_err(|e| self.explain(e)),
        }
    }

    /// Starts production from release `id`'s object and waits for it.
    async fn deploy_from_store(&self, id: &str, deadline: Instant) -> Result<String, DeployError> {
        let store = self.store()?;
        let app = self.app().await?;
        let production = self.production_branch(&app);
        let body = json!({ "sourceUrl": Self::source_url(store, id), "sourceUrlType": "ZIP" });
        let job = self.start(&production, &body).await?;
        self.wait_job(&production, &job, deadline).await?;
        Ok(branch_url(
            &production,
            app["defaultDomain"].as_str().unwrap_or_default(),
        ))
    }
}

impl Provider for Amplify {
    fn name(&self) -> &'static str {
        "amplify"
    }

    fn file_limit(&self) -> Option<usize> {
        None
    }

    fn file_size_limit(&self) -> Option<u64> {
        None
    }

    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        let app = self.app().await?;
        let production = self.production_branch(&app);
        let domain = app["defaultDomain"].as_str().unwrap_or_default().to_owned();
        let (branch, stage) = match request.pull_request {
            Some(n) => (format!("pr-{n}"), "PULL_REQUEST"),
            None => (STAGING_BRANCH.to_owned(), "DEVELOPMENT"),
        };
        if branch == production {
            return Err(DeployError::Input(InputError::new(
                "branch",
                format!("`{branch}` is shipline's staging branch; name another production branch"),
            )));
        }
        self.ensure_branch(&branch, stage).await?;
        let zip = zip_site(request.site)?;
        let size = zip.len() as u64;
        request.progress.expect(1, size);

        request.remaining("creating the deployment")?;
        let path = format!("apps/{}/branches/{branch}/deployments", self.app_id);
        let created = self
            .send(Request::post(self.url(&path)?).json(&json!({})))
            .await?;
        let (Some(job), Some(upload)) =
            (created["jobId"].as_str(), created["zipUploadUrl"].as_str())
        else {
            return Err(DeployError::Failed(
                "Amplify's CreateDeployment answer has no `jobId` or `zipUploadUrl`".into(),
            ));
        };
        let id = format!("{branch}-{job}");
        // A presigned URL: it carries its own signature.
        let upload = SafeUrl::parse(upload).map_err(|e| {
            DeployError::Failed(format!("Amplify's `zipUploadUrl` is not a URL: {e}"))
        })?;
        self.http
            .send_ok(Request::new(Method::PUT, upload).bytes(zip.clone(), "application/zip"))
            .await
            .map_err(|e| DeployError::from_upload("Amplify", "the site's zip", size, e))?;
        if let Some(store) = &self.store {
            let put = Request::new(Method::PUT, self.object_url(store, &id)?)
                .bytes(zip.clone(), "application/zip");
            self.http
                .send_ok(self.sign(put, "s3").await?)
                .await
                .map_err(|e| self.explain(e))?;
        }
        request.progress.uploaded(size);
        let started = self.start(&branch, &json!({ "jobId": job })).await?;
        self.wait_job(&branch, &started, request.deadline).await?;
        Ok(Staged {
            url: branch_url(&branch, &domain),
            inspector_url: Some(format!(
                "https://{}.console.aws.amazon.com/amplify/apps/{}/branches/{branch}/deployments",
                self.region, self.app_id
            )),
            files_uploaded: request.site.files.len(),
            bytes_uploaded: size,
            site_url: Some(branch_url(&production, &domain)),
            site_name: Some(self.app_id.clone()),
            alias: None,
            id,
        })
    }

    async fn promote(
        &self,
        staged: &Staged,
        request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        self.deploy_from_store(&staged.id, request.deadline).await
    }

    /// The id records know production by: the release whose object the serving job was
    /// started from, else `<branch>-<job>` of a job shipline did not start.
    async fn live(&self) -> Result<Option<String>, DeployError> {
        let app = self.app().await?;
        let production = self.production_branch(&app);
        let path = format!("apps/{}/branches/{production}", self.app_id);
        let Some(branch) = self.get_optional(&path).await? else {
            return Ok(None);
        };
        let Some(job) = branch["branch"]["activeJobId"]
            .as_str()
            .filter(|j| !j.is_empty())
        else {
            return Ok(None);
        };
        let job_path = format!("{path}/jobs/{job}");
        let source = self
            .get_optional(&job_path)
            .await?
            .and_then(|j| j["job"]["summary"]["sourceUrl"].as_str().map(str::to_owned));
        let from_store = match (&self.store, source) {
            (Some(store), Some(url)) => url
                .strip_prefix(&format!("s3://{}/", store.bucket))
                .and_then(|key| {
                    let name = key.rsplit('/').next()?;
                    name.strip_suffix(".zip").map(str::to_owned)
                }),
            _ => None,
        };
        Ok(Some(
            from_store.unwrap_or_else(|| format!("{production}-{job}")),
        ))
    }

    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        let Some((branch, job)) = split_id(id) else {
            return Ok(None);
        };
        let path = format!("apps/{}/branches/{branch}/jobs/{job}", self.app_id);
        let Some(answer) = self.get_optional(&path).await? else {
            return Ok(None);
        };
        if answer["job"]["summary"]["status"] != "SUCCEED" {
            return Ok(None);
        }
        let store = self.store()?;
        Ok(self
            .object_exists(store, id)
            .await?
            .then_some(Switch::Rollback))
    }

    async fn switch_to(
        &self,
        id: &str,
        _how: Switch,
        _reason: &str,
        deadline: Instant,
    ) -> Result<String, DeployError> {
        self.deploy_from_store(id, deadline).await
    }

    async fn alias_preview(
        &self,
        staged: &Staged,
        _pull_request: u64,
        _request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        // The `pr-<n>` branch's own URL is the stable one.
        Ok(Some(staged.url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_branch_and_the_job() {
        assert_eq!(
            split_id("shipline-verify-12"),
            Some(("shipline-verify", "12"))
        );
        assert_eq!(split_id("pr-7-3"), Some(("pr-7", "3")));
        assert_eq!(split_id("main"), None);
        assert_eq!(split_id("main-x1"), None);
    }

    #[test]
    fn branch_urls() {
        assert_eq!(
            branch_url("main", "d1a2.amplifyapp.com"),
            "https://main.d1a2.amplifyapp.com"
        );
        assert_eq!(
            branch_url("feat/x", "d1a2.amplifyapp.com"),
            "https://feat-x.d1a2.amplifyapp.com"
        );
        assert_eq!(
            branch_url("pr-7", "127.0.0.1:4000"),
            "http://127.0.0.1:4000/_branches/pr-7/"
        );
    }
}

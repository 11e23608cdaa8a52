//! A checked [`Host`] turned into the provider that talks to it, and the record store a
//! run writes to: what `deploy` and `rollback` both start from.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use shipline_cli::Ctx;
use shipline_core::{InputError, SafeUrl, Secret};
use shipline_hosting::record::{FsRecords, GitHubRecords, Records};
use shipline_hosting::{Host, RecordStore};
use shipline_http::{ClientOptions, HttpClient, RetryPolicy, Service};

use crate::amplify::Amplify;
use crate::cloudflare::CloudflarePages;
use crate::fs_host::FsHost;
use crate::netlify::Netlify;
use crate::provider::{DeployError, Provider, StageRequest, Staged, Switch};
use crate::vercel::Vercel;

/// One of the hosts, chosen at run time.
pub enum AnyProvider {
    Vercel(Vercel),
    Netlify(Netlify),
    CloudflarePages(CloudflarePages),
    /// Boxed: its credentials cell makes it the largest by far.
    Amplify(Box<Amplify>),
    Fs(FsHost),
}

/// What only an fs host needs.
#[derive(Debug, Clone, Default)]
pub struct FsOptions {
    pub keep: usize,
    pub site_url: Option<String>,
}

impl AnyProvider {
    pub fn new(
        host: &Host,
        http: &HttpClient,
        ctx: &Ctx,
        fs: FsOptions,
    ) -> Result<AnyProvider, InputError> {
        let base = |service: Service| -> Result<SafeUrl, InputError> {
            service
                .base_url(|k| ctx.env.var(k))
                .map_err(|e| InputError::new(service.env_var(), e))
        };
        Ok(match host {
            Host::Vercel {
                token,
                project,
                team,
            } => AnyProvider::Vercel(Vercel {
                http: http.clone(),
                api: base(Service::Vercel)?,
                token: token.clone(),
                project: project.clone(),
                team: team.clone(),
            }),
            Host::Netlify { token, site } => AnyProvider::Netlify(Netlify {
                http: http.clone(),
                api: base(Service::Netlify)?,
                token: token.clone(),
                site: site.clone(),
            }),
            Host::CloudflarePages {
                token,
                account,
                project,
            } => AnyProvider::CloudflarePages(CloudflarePages::new(
                http.clone(),
                base(Service::Cloudflare)?,
                token.clone(),
                account.clone(),
                project.clone(),
            )),
            Host::Amplify {
                app_id,
                branch,
                region,
                credentials,
                artifact_store,
            } => AnyProvider::Amplify(Box::new(Amplify {
                http: http.clone(),
                api: crate::aws::amplify_endpoint(|k| ctx.env.var(k), region).map_err(|e| {
                    InputError::new(shipline_core::EnvVars::AWS_ENDPOINT_URL_AMPLIFY, e)
                })?,
                app_id: app_id.clone(),
                branch: branch.clone(),
                region: region.clone(),
                auth: credentials.clone(),
                sts: crate::aws::sts_endpoint(|k| ctx.env.var(k), region).map_err(|e| {
                    InputError::new(shipline_core::EnvVars::AWS_ENDPOINT_URL_STS, e)
                })?,
                credentials: tokio::sync::OnceCell::new(),
                store: artifact_store.clone(),
                s3_endpoint: ctx.env.var(shipline_core::EnvVars::AWS_ENDPOINT_URL_S3),
            })),
            Host::Fs { target_dir } => AnyProvider::Fs(FsHost {
                target_dir: target_dir.clone(),
                keep: fs.keep.max(1),
                site_url: fs.site_url,
            }),
        })
    }
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyProvider::Vercel($p) => $e,
            AnyProvider::Netlify($p) => $e,
            AnyProvider::CloudflarePages($p) => $e,
            AnyProvider::Amplify($p) => $e,
            AnyProvider::Fs($p) => $e,
        }
    };
}

impl Provider for AnyProvider {
    fn name(&self) -> &'static str {
        each!(self, p => p.name())
    }
    fn file_limit(&self) -> Option<usize> {
        each!(self, p => p.file_limit())
    }
    fn file_size_limit(&self) -> Option<u64> {
        each!(self, p => p.file_size_limit())
    }
    fn directory_limit(&self) -> Option<usize> {
        each!(self, p => p.directory_limit())
    }
    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        each!(self, p => p.stage(request).await)
    }
    async fn promote(
        &self,
        staged: &Staged,
        request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        each!(self, p => p.promote(staged, request).await)
    }
    fn local_release(&self, staged: &Staged) -> Option<PathBuf> {
        each!(self, p => p.local_release(staged))
    }
    async fn live(&self) -> Result<Option<String>, DeployError> {
        each!(self, p => p.live().await)
    }
    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        each!(self, p => p.find(id).await)
    }
    async fn switch_to(
        &self,
        id: &str,
        how: Switch,
        reason: &str,
        deadline: Instant,
    ) -> Result<String, DeployError> {
        each!(self, p => p.switch_to(id, how, reason, deadline).await)
    }
    async fn alias_preview(
        &self,
        staged: &Staged,
        pull_request: u64,
        request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        each!(self, p => p.alias_preview(staged, pull_request, request).await)
    }
}

/// The run's record store: GitHub Deployments of this repository, or files.
pub fn open_records(
    store: &RecordStore,
    github_token: Option<&Secret>,
    ctx: &Ctx,
) -> anyhow::Result<Records> {
    Ok(match store {
        RecordStore::Fs(dir) => Records::Fs(FsRecords { dir: dir.clone() }),
        RecordStore::GitHub => {
            let (owner, repo) = ctx
                .github
                .owner_repo()
                .context("the GitHub record store needs `GITHUB_REPOSITORY`")?;
            let token = github_token
                .cloned()
                .context("the GitHub record store needs `github-token`")?;
            // Retries on the record calls are short: a record is small and the run waits.
            let http = HttpClient::new(ClientOptions {
                retry: RetryPolicy {
                    budget: Duration::from_secs(60),
                    ..RetryPolicy::default()
                },
                ..ClientOptions::default()
            })?;
            Records::GitHub(GitHubRecords {
                http,
                api: Service::GitHub
                    .base_url(|k| ctx.env.var(k))
                    .map_err(|e| InputError::new("GITHUB_API_URL", e))?,
                token,
                owner: owner.to_owned(),
                repo: repo.to_owned(),
            })
        }
    })
}

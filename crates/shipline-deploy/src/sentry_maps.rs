//! `sentry-sourcemaps`: what the deploy flow does with Sentry around its own steps. Debug
//! IDs go in before the site is hashed; the bundle goes to Sentry once preflight passed
//! (nothing leaves the runner before); the release and its deploy marker are created once
//! the deploy succeeded. Sentry failing never fails a deploy that worked: it is a warning.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use shipline_core::time::now_rfc3339_millis;
use shipline_http::HttpClient;
use shipline_notify::sentry::{self, BundleTarget, Release};

use crate::SentryMaps;
use crate::site::Site;
use crate::sourcemaps::{self, Injected, SourceMapError};

/// The injected files of a run.
#[derive(Debug, Clone, Default)]
pub struct Maps {
    pub injected: Vec<Injected>,
}

impl Maps {
    /// Injects the site in place.
    pub fn inject(root: &Path) -> Result<Maps, SourceMapError> {
        Ok(Maps {
            injected: sourcemaps::inject_dir(root)?,
        })
    }

    /// The site as it is deployed: without the maps that went to Sentry, unless kept.
    pub fn deployed_site(&self, site: Site, sentry: &SentryMaps) -> Site {
        if sentry.keep_maps {
            return site;
        }
        let maps: BTreeSet<&str> = self.injected.iter().map(|i| i.map.as_str()).collect();
        site.without(|f| maps.contains(f.path.as_str()))
    }

    /// Builds and uploads the artifact bundle; the report's line, or the warning's text.
    pub async fn upload(
        &self,
        http: &HttpClient,
        root: &Path,
        sentry: &SentryMaps,
        deadline: Instant,
    ) -> Result<String, String> {
        if self.injected.is_empty() {
            return Err(
                "`sentry-sourcemaps` found no JS file with a source map: build with `build.sourcemap: true` (Vite) or `'hidden'`".into(),
            );
        }
        let (bundle, _) = sourcemaps::artifact_bundle(
            root,
            &self.injected,
            &sentry.sentry.org,
            sentry.release.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        let target = BundleTarget {
            org: &sentry.sentry.org,
            project: &sentry.sentry.project,
            release: sentry.release.as_deref(),
        };
        let uploaded = sentry::upload_artifact_bundle(
            http,
            &sentry.sentry.base,
            &sentry.sentry.token,
            &target,
            &bundle,
            deadline,
        )
        .await
        .map_err(|e| format!("the source maps were not uploaded to Sentry: {e}"))?;
        let fresh = self.injected.iter().filter(|i| i.changed).count();
        Ok(format!(
            "{} file(s) with debug IDs ({fresh} injected now), bundle {} ({} of {} chunk(s) sent)",
            self.injected.len(),
            &uploaded.checksum[..12],
            uploaded.chunks_sent,
            uploaded.chunks
        ))
    }
}

/// The release and its deploy marker, through notify's Sentry client.
pub async fn mark_release(
    http: &HttpClient,
    sentry: &SentryMaps,
    environment: &str,
    url: &str,
    started: &str,
) -> Result<String, String> {
    let Some(version) = sentry.release.clone() else {
        return Err("no Sentry release was created: set `sentry-release` (or `ref`)".into());
    };
    // Sentry environment names take no slashes or spaces (`preview/pr-7` → `preview-pr-7`).
    let environment: String = environment
        .chars()
        .map(|c| {
            if c == '/' || c.is_whitespace() {
                '-'
            } else {
                c
            }
        })
        .collect();
    let environment = environment.as_str();
    let release = Release {
        org: sentry.sentry.org.clone(),
        project: sentry.sentry.project.clone(),
        version,
        // Commit association needs the repository connected in Sentry; `notify` does it.
        repository: None,
        commit: None,
        url: Some(url.to_owned()),
        environment: environment.to_owned(),
        started: started.to_owned(),
        finished: now_rfc3339_millis(),
    };
    let deployed =
        sentry::release_and_deploy(http, &sentry.sentry.base, &sentry.sentry.token, &release)
            .await
            .map_err(|e| format!("the Sentry release or deploy marker was not created: {e}"))?;
    Ok(format!(
        "release `{}`, deploy to `{environment}`",
        deployed.version
    ))
}

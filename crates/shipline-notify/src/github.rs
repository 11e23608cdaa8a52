//! The GitHub calls notify makes: REST for comments, issues and deployment statuses, GraphQL
//! for the two things REST cannot do (who the token is, minimizing a comment).

use serde_json::{Value, json};
use shipline_cli::Ctx;
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Request, Service};

use crate::error::NotifyError;

/// One repository, one token.
#[derive(Debug, Clone)]
pub struct GitHub {
    pub http: HttpClient,
    /// REST base (`https://api.github.com`, `https://ghe.example/api/v3`).
    pub api: SafeUrl,
    /// GraphQL endpoint (`GITHUB_GRAPHQL_URL`, or derived from the REST base).
    pub graphql: SafeUrl,
    pub token: Secret,
    pub owner: String,
    pub repo: String,
}

/// `https://api.github.com` → `…/graphql`; GHES `https://h/api/v3` → `https://h/api/graphql`.
pub fn graphql_url(api: &SafeUrl) -> Result<SafeUrl, url::ParseError> {
    let mut url = api.expose().clone();
    let path = url.path().trim_end_matches('/').to_owned();
    match path.strip_suffix("/v3") {
        Some(prefix) => url.set_path(&format!("{prefix}/graphql")),
        None => url.set_path(&format!("{path}/graphql")),
    }
    Ok(SafeUrl::from(url))
}

impl GitHub {
    /// The client for the run's repository (`GITHUB_REPOSITORY`), with the API base from
    /// `GITHUB_API_URL` and GraphQL from `GITHUB_GRAPHQL_URL` (else beside the REST base).
    pub fn for_run(ctx: &Ctx, token: &Secret, http: &HttpClient) -> Result<GitHub, InputError> {
        let (owner, repo) = ctx.github.owner_repo().ok_or_else(|| {
            InputError::new(
                EnvVars::GITHUB_REPOSITORY,
                "must be `owner/repo` for the GitHub targets (the runner sets it)",
            )
        })?;
        let api = Service::GitHub
            .base_url(|k| ctx.env.var(k))
            .map_err(|e| InputError::new(EnvVars::GITHUB_API_URL, e))?;
        let graphql = match ctx.env.var(EnvVars::GITHUB_GRAPHQL_URL) {
            Some(url) if !url.trim().is_empty() => SafeUrl::parse(url.trim()).map_err(|e| {
                InputError::new(EnvVars::GITHUB_GRAPHQL_URL, format!("is not a URL ({e})"))
            })?,
            _ => graphql_url(&api).map_err(|e| {
                InputError::new(
                    EnvVars::GITHUB_API_URL,
                    format!("no GraphQL URL beside it ({e})"),
                )
            })?,
        };
        Ok(GitHub {
            http: http.clone(),
            api,
            graphql,
            token: token.clone(),
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }

    pub fn repo_url(&self, path: &str) -> Result<SafeUrl, NotifyError> {
        self.api
            .join_path(&format!("repos/{}/{}/{path}", self.owner, self.repo))
            .map_err(|e| NotifyError::Http(HttpError::Build(format!("bad GitHub API URL: {e}"))))
    }

    fn request(&self, request: Request) -> Request {
        request
            .bearer(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    /// GET a JSON value; `permission` names what a 403 means.
    pub async fn get(&self, url: SafeUrl, permission: &'static str) -> Result<Value, NotifyError> {
        let response = self
            .http
            .send_ok(self.request(Request::get(url)))
            .await
            .map_err(|e| NotifyError::github(e, permission))?;
        response.json().map_err(NotifyError::Http)
    }

    /// Every page of a list, following `Link: rel="next"` (same origin only).
    pub async fn get_all(
        &self,
        first: SafeUrl,
        permission: &'static str,
    ) -> Result<Vec<Value>, NotifyError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let response = self
                .http
                .send_ok(self.request(Request::get(url)))
                .await
                .map_err(|e| NotifyError::github(e, permission))?;
            let page: Vec<Value> = response.json().map_err(NotifyError::Http)?;
            items.extend(page);
            next = response.next_page();
        }
        Ok(items)
    }

    /// POST or PATCH a JSON body. Not retried after a 5xx: a comment might have been made.
    pub async fn send(
        &self,
        method: shipline_http::Method,
        url: SafeUrl,
        body: &Value,
        permission: &'static str,
    ) -> Result<Value, NotifyError> {
        let response = self
            .http
            .send_ok(self.request(Request::new(method, url).json(body)))
            .await
            .map_err(|e| NotifyError::github(e, permission))?;
        response.json().map_err(NotifyError::Http)
    }

    /// The answer whatever its status, for callers that act on a 404 or 409 themselves
    /// (the contents API).
    pub async fn answer(
        &self,
        method: shipline_http::Method,
        url: SafeUrl,
        body: Option<&Value>,
    ) -> Result<shipline_http::Response, HttpError> {
        let mut request = Request::new(method, url);
        if let Some(b) = body {
            request = request.json(b);
        }
        self.http.send(self.request(request)).await
    }

    async fn graphql(
        &self,
        query: &str,
        variables: Value,
        permission: &'static str,
    ) -> Result<Value, NotifyError> {
        let body = json!({ "query": query, "variables": variables });
        let response = self
            .http
            .send_ok(self.request(Request::post(self.graphql.clone()).json(&body)))
            .await
            .map_err(|e| NotifyError::github(e, permission))?;
        let answer: Value = response.json().map_err(NotifyError::Http)?;
        if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect();
            return Err(NotifyError::Service(format!(
                "GitHub GraphQL refused: {}",
                messages.join("; ")
            )));
        }
        Ok(answer["data"].clone())
    }

    /// The login the token acts as, without `[bot]` (GraphQL `viewer`: REST `GET /user`
    /// refuses installation tokens such as `GITHUB_TOKEN`).
    pub async fn viewer_login(&self) -> Result<String, NotifyError> {
        let data = self
            .graphql("query { viewer { login } }", json!({}), "contents: read")
            .await?;
        data["viewer"]["login"]
            .as_str()
            .map(|l| bare_login(l).to_owned())
            .ok_or_else(|| NotifyError::Service("GitHub GraphQL gave no `viewer.login`".into()))
    }

    /// Collapses a comment as outdated (`minimizeComment`, classifier `OUTDATED`).
    pub async fn minimize(&self, node_id: &str) -> Result<(), NotifyError> {
        self.graphql(
            "mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { minimizedComment { isMinimized } } }",
            json!({ "id": node_id }),
            "pull-requests: write",
        )
        .await
        .map(|_| ())
    }
}

/// `github-actions[bot]` and `github-actions` are the same author.
pub fn bare_login(login: &str) -> &str {
    login.strip_suffix("[bot]").unwrap_or(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_lives_beside_rest() {
        let at = |api: &str| {
            graphql_url(&SafeUrl::parse(api).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(
            at("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://ghe.acme.dev/api/v3"),
            "https://ghe.acme.dev/api/graphql"
        );
        assert_eq!(at("http://127.0.0.1:9/"), "http://127.0.0.1:9/graphql");
        assert_eq!(bare_login("github-actions[bot]"), "github-actions");
    }
}

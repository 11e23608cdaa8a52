// Copies published examples into tests/fixtures/: real webhook payloads from
// @octokit/webhooks-examples (events/) and the REST API's own response examples from
// @octokit/openapi (github/), which the GitHub fake starts every object from.
// Run when those packages are bumped: `node tools/extract-fixtures.mjs`. The fixtures are
// committed so tests never depend on node_modules for them.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const all = JSON.parse(
  readFileSync(join(here, "node_modules/@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
);
const out = join(here, "../tests/fixtures/events");
mkdirSync(out, { recursive: true });
const examples = (name) => all.find((e) => e.name === name).examples;
const write = (file, payload) => writeFileSync(join(out, file), JSON.stringify(payload, null, 2) + "\n");

write("push.json", examples("push").find((p) => p.head_commit && !p.deleted));
const prs = examples("pull_request");
write("pull_request.opened.json", prs.find((p) => p.action === "opened"));
write("pull_request.synchronize.json", prs.find((p) => p.action === "synchronize"));
const fork = prs.find((p) => p.pull_request.head.repo && p.pull_request.head.repo.full_name !== p.repository.full_name);
if (fork) write("pull_request.fork.json", fork);
write("workflow_dispatch.json", examples("workflow_dispatch")[0]);


// `schedule` is not a webhook, so it has no published example. The runner's payload for it is
// the cron line that fired, the repository and the workflow file; build it from a real
// repository object.
write("schedule.json", {
  schedule: "*/5 * * * *",
  repository: examples("workflow_dispatch")[0].repository,
  workflow: ".github/workflows/probe.yml",
});

// GitHub REST response examples, one object each (the first element of a list).
const spec = JSON.parse(
  readFileSync(join(here, "node_modules/@octokit/openapi/generated/api.github.com.json"), "utf8"),
);
const githubOut = join(here, "../tests/fixtures/github");
mkdirSync(githubOut, { recursive: true });
const examplesOf = [
  ["post", "/repos/{owner}/{repo}/deployments", "201", "deployment"],
  ["post", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "201", "deployment-status"],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "201", "issue-comment"],
  ["post", "/repos/{owner}/{repo}/issues", "201", "issue"],
  ["get", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", "200", "pull-request-simple"],
  ["get", "/user", "200", "user"],
];
for (const [method, path, status, file] of examplesOf) {
  const content = spec.paths[path][method].responses[status].content["application/json"];
  let example = Object.values(content.examples)[0];
  if (example.$ref) example = spec.components.examples[example.$ref.split("/").pop()];
  const value = Array.isArray(example.value) ? example.value[0] : example.value;
  writeFileSync(join(githubOut, `${file}.json`), JSON.stringify(value, null, 2) + "\n");
}

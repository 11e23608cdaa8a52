// Copies real webhook payloads from @octokit/webhooks-examples into tests/fixtures/events/.
// Run once when the package is bumped: `node tools/extract-events.mjs`. The fixtures are
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

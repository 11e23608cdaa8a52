// Validates answers of the test kit's Vercel fake with the zod schemas of @vercel/sdk.
// stdin: [{ "module": "createdeploymentresponsebody", "schema": "CreateDeploymentResponseBody", "body": {…} }]
// stdout: one line per problem; exit 1 when there is any. For a union schema the first member
// (the full model) must match, not merely the loosest one.
const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => resolve(text));
}));
let problems = 0;
for (const { module, schema, body } of input) {
  const models = await import(`@vercel/sdk/models/${module}.js`);
  let zod = models[`${schema}$inboundSchema`];
  if (!zod) {
    console.log(`${schema}: no such schema in @vercel/sdk/models/${module}.js`);
    problems++;
    continue;
  }
  if (zod._def && Array.isArray(zod._def.options)) zod = zod._def.options[0];
  const result = zod.safeParse(body);
  if (!result.success) {
    for (const issue of result.error.issues) {
      console.log(`${schema}: ${issue.path.join(".") || "$"}: ${issue.message}`);
      problems++;
    }
  }
}
process.exit(problems ? 1 : 0);

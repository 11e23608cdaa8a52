// Deploys a prebuilt `.vercel/output` with `@vercel/client`, the library the Vercel CLI
// deploys with, for the side-by-side benchmark (`cargo run --release -p xtask -- bench deploy`).
// Usage: node vercel-client-deploy.mjs <api-url> <project-dir> <project> [production]
// The token comes from VERCEL_TOKEN, never from argv.
import { join } from 'node:path';
import { createDeployment } from '@vercel/client';

const [apiUrl, path, project, target] = process.argv.slice(2);
const token = process.env.VERCEL_TOKEN;
const options = {
  token,
  path,
  apiUrl,
  prebuilt: true,
  vercelOutputDir: join(path, '.vercel', 'output'),
  skipAutoDetectionConfirmation: true,
};
const body = { name: project, project };
if (target === 'production') {
  body.target = 'production';
  body.autoAssignCustomDomains = false;
}
for await (const event of createDeployment(options, body)) {
  if (event.type === 'error') {
    console.error(`error: ${JSON.stringify(event.payload)}`);
    process.exit(1);
  }
  if (event.type === 'alias-assigned') {
    console.log(JSON.stringify({ id: event.payload.id, url: event.payload.url }));
    process.exit(0);
  }
}
console.error('the deployment never became ready');
process.exit(1);

// Prints the Cloudflare Pages asset hash of each file named on the command line, the way
// wrangler computes it (`@cloudflare/deploy-helpers` hashFile): blake3-wasm over
// base64(content) + extension, hex, 32 characters. The deploy tests compare ours with it.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { hash } from "blake3-wasm";

for (const file of process.argv.slice(2)) {
  const base64 = readFileSync(file).toString("base64");
  const extension = extname(file).substring(1);
  console.log(`${hash(base64 + extension).toString("hex").slice(0, 32)} ${file}`);
}

// One file a machine without the repository runs with `node cybros-nexus.mjs …` (zod and the protocol inlined).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outfile = path.join(root, "packages/nexus/dist/cybros-nexus.mjs");

await build({
  entryPoints: [path.join(root, "packages/nexus/src/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
console.log(outfile);

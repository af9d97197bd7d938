// Builds what `npm start` serves: the web app (Vite) and the server bundle (esbuild).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { sourceStamp } from "./source-stamp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const serverDir = path.join(root, "apps/server");

export async function buildAll() {
  const started = Date.now();
  execFileSync(process.execPath, [path.join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
    cwd: path.join(root, "apps/web"),
    stdio: "inherit",
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(serverDir, "package.json"), "utf8"));
  // Workspace packages are bundled (they ship TypeScript); registry packages stay external.
  const readName = (dir) => JSON.parse(fs.readFileSync(path.join(root, dir, "package.json"), "utf8")).name;
  const workspaces = new Set(
    JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).workspaces.map(readName),
  );
  const external = Object.keys(pkg.dependencies).filter((name) => !workspaces.has(name));
  // Chunk names carry a hash: start empty so no earlier build's chunks linger.
  fs.rmSync(path.join(serverDir, "dist"), { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(serverDir, "src/main.ts") },
    outdir: path.join(serverDir, "dist"),
    // main.ts imports server.js dynamically: it becomes a chunk whose packages load only then, after PGlite has
    // started. Chunks sit beside main.js (modules find the repository root from their own folder).
    splitting: true,
    chunkNames: "[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    external: [...external, ...external.map((name) => `${name}/*`)],
    logLevel: "warning",
  });
  // The PGlite worker thread's entry (plain JavaScript, registry imports only) sits beside the bundle.
  fs.copyFileSync(path.join(serverDir, "src/db/pglite-worker.mjs"), path.join(serverDir, "dist/pglite-worker.mjs"));
  fs.writeFileSync(path.join(serverDir, "dist/.source-stamp"), sourceStamp(root));
  console.log(`Built web app and server in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAll();

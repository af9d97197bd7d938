// `npm start`: builds when the sources changed since the last build, then runs the server in this process.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sourceStamp } from "./source-stamp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundle = path.join(root, "apps/server/dist/main.js");
const stampFile = path.join(root, "apps/server/dist/.source-stamp");

const built =
  fs.existsSync(bundle) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === sourceStamp(root);
if (!built) {
  console.log("Building Cybros (first start, or the sources changed)…");
  const { buildAll } = await import("./build.mjs");
  await buildAll();
}
await import(pathToFileURL(bundle).href);

import { execFileSync } from "node:child_process";
import path from "node:path";

/** Builds the web app and server bundle once, as `npm start` would, before any browser test runs. */
export default function globalSetup() {
  execFileSync(process.execPath, [path.join(import.meta.dirname, "../scripts/build.mjs")], { stdio: "inherit" });
}

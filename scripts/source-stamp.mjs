import fs from "node:fs";
import path from "node:path";

const SOURCES = [
  "apps/server/src",
  "apps/web/src",
  "apps/web/index.html",
  "apps/web/public",
  "packages/protocol/src",
  "packages/nexus/src",
  "package-lock.json",
];

/** A cheap fingerprint of everything the build reads: newest mtime and file count. */
export function sourceStamp(root) {
  let newest = 0;
  let files = 0;
  const visit = (p) => {
    let stat;
    try {
      stat = fs.statSync(p);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p)) visit(path.join(p, name));
      return;
    }
    files++;
    newest = Math.max(newest, stat.mtimeMs);
  };
  for (const source of SOURCES) visit(path.join(root, source));
  return `${Math.floor(newest)}:${files}`;
}

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { createDataFolder } from "../config.js";
import { loadMasterKey } from "./index.js";

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const made: string[] = [];
afterEach(() => {
  for (const folder of made.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

it("keeps the data folder 0700 and the master key 0600, new or existing", () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-perm-"));
  made.push(parent);
  const fresh = path.join(parent, "new", "data");
  createDataFolder(fresh);
  loadMasterKey(fresh);
  expect(mode(fresh)).toBe(0o700);
  expect(mode(path.join(fresh, "secret.key"))).toBe(0o600);

  // A folder and key left world-readable by an older version.
  const old = path.join(parent, "old");
  fs.mkdirSync(old, { mode: 0o755 });
  fs.chmodSync(old, 0o755);
  fs.writeFileSync(path.join(old, "secret.key"), Buffer.alloc(32, 7).toString("base64"), { mode: 0o644 });
  fs.chmodSync(path.join(old, "secret.key"), 0o644);
  createDataFolder(old);
  expect(loadMasterKey(old)).toEqual(Buffer.alloc(32, 7));
  expect(mode(old)).toBe(0o700);
  expect(mode(path.join(old, "secret.key"))).toBe(0o600);
});

import { spawn } from "node:child_process";
import dns from "node:dns/promises";
import fs from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { ValidationError } from "../errors.js";
import { bareHostname, isAllowlisted, isForbiddenAddress } from "../outbound/addresses.js";

export const CLONE_TIMEOUT_MS = 60_000;
export const MAX_CLONE_BYTES = 50 * 1024 * 1024;
const SIZE_POLL_MS = 250;

/**
 * Clones `rawUrl` (https or file://, already checked by the protocol schema) into the empty folder `into`: one
 * commit deep, no tags, no submodules, no hooks, symbolic links checked out as plain files, so nothing in the
 * repository can point outside it. Other protocols are disabled for git itself too (a redirect or a submodule
 * cannot switch to ssh or ext::), https redirects are not followed, and a https host that resolves to a private
 * or loopback address is refused unless the account's outbound allowlist names it (decisions/0030). Fails with
 * a ValidationError on `gitUrl` saying why; the caller removes `into`.
 */
export async function cloneAgentRepository(rawUrl: string, into: string, allowlist: readonly string[]): Promise<void> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ValidationError({ gitUrl: "is not a valid URL" });
  }
  if (url.protocol === "https:") await refusePrivateHost(url, allowlist);
  const args = [
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.https.allow=always",
    "-c",
    "protocol.file.allow=always",
    "-c",
    "http.followRedirects=false",
    "-c",
    "core.symlinks=false",
    "-c",
    "core.hooksPath=/dev/null",
    "clone",
    "--depth=1",
    "--no-tags",
    "--single-branch",
    "--no-recurse-submodules",
    "--quiet",
    "--",
    rawUrl,
    into,
  ];
  const child = spawn("git", args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "true",
      GIT_ALLOW_PROTOCOL: "https:file",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_LFS_SKIP_SMUDGE: "1",
    },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString("utf8");
  });
  let stopped: string | null = null;
  const stop = (why: string) => {
    stopped ??= why;
    child.kill("SIGKILL");
  };
  const timer = setTimeout(() => stop(`took longer than ${CLONE_TIMEOUT_MS / 1000} s to clone`), CLONE_TIMEOUT_MS);
  const sizeWatch = setInterval(() => {
    void folderBytes(into).then((bytes) => {
      if (bytes > MAX_CLONE_BYTES) stop(`is larger than ${MAX_CLONE_BYTES / 1024 / 1024} MB`);
    });
  }, SIZE_POLL_MS);
  const code = await new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(-1));
    child.on("close", resolve);
  });
  clearTimeout(timer);
  clearInterval(sizeWatch);
  if (stopped) throw new ValidationError({ gitUrl: stopped });
  if (code !== 0) throw new ValidationError({ gitUrl: `could not be cloned: ${gitFailure(stderr)}` });
  if ((await folderBytes(into)) > MAX_CLONE_BYTES) {
    throw new ValidationError({ gitUrl: `is larger than ${MAX_CLONE_BYTES / 1024 / 1024} MB` });
  }
}

/** The URL as it may be stored or shown: without a user name or password. */
export function redactGitUrl(rawUrl: string): string {
  const url = new URL(rawUrl);
  url.username = "";
  url.password = "";
  return url.toString();
}

async function refusePrivateHost(url: URL, allowlist: readonly string[]): Promise<void> {
  if (isAllowlisted(url, allowlist)) return;
  const host = bareHostname(url);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new ValidationError({ gitUrl: `could not be cloned: the host ${url.hostname} was not found` });
  }
  const bad = addresses.find(isForbiddenAddress);
  if (bad) {
    throw new ValidationError({
      gitUrl:
        `points to a private, loopback or link-local address (${bad}); an administrator can allow the host in ` +
        "System settings (web fetch allowlist)",
    });
  }
}

/** git's first "fatal:" line (the cause; later ones are generic), credentials removed; the whole of stderr is not shown (it may be long). */
function gitFailure(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim());
  const fatal = lines.find((line) => line.startsWith("fatal:")) ?? lines.findLast(Boolean) ?? "git failed";
  return fatal
    .replace(/^fatal:\s*/, "")
    .replace(/\/\/[^/@\s]+@/g, "//")
    .slice(0, 300);
}

async function folderBytes(folder: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  await Promise.all(
    entries.map(async (entry) => {
      if (!entry.isFile()) return;
      total += (await fs.stat(path.join(entry.parentPath, entry.name)).catch(() => null))?.size ?? 0;
    }),
  );
  return total;
}

import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { defaultAccount } from "../accounts/index.js";
import { createEnrollmentToken } from "../conduits/index.js";
import { repoRoot } from "../config.js";
import { territories } from "../db/schema.js";
import type { TestServer } from "./harness.js";

const nexusBin = path.join(repoRoot, "node_modules/.bin/cybros-nexus");

export interface LocalNexus {
  territoryId: string;
  stop(): Promise<void>;
}

/**
 * A real `cybros-nexus` process enrolled against the test server as the account's local territory (what the
 * embedded local Nexus will be), polling until `stop`. Resolves once the territory is online.
 */
export async function withLocalNexus(server: TestServer, options: { name?: string } = {}): Promise<LocalNexus> {
  const url = await server.url();
  const { db } = server.services;
  const account = await defaultAccount(db);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-local-nexus-"));
  const { token } = await createEnrollmentToken(db, account.id);
  const enrolled = await promisify(execFile)(nexusBin, [
    "enroll",
    "--server",
    url,
    "--token",
    token,
    "--name",
    options.name ?? "This computer",
    "--dir",
    dir,
  ]);
  const territoryId = /territory (\S+);/.exec(enrolled.stdout)![1]!;
  await db.update(territories).set({ local: true }).where(eq(territories.id, territoryId));
  const nexus: ChildProcess = spawn(nexusBin, ["run", "--dir", dir, "--slots", "2"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [territory] = await db.select().from(territories).where(eq(territories.id, territoryId));
    if (territory?.status === "online") break;
    if (nexus.exitCode !== null || Date.now() > deadline) throw new Error("the local Nexus did not come online");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    territoryId,
    stop: async () => {
      if (nexus.exitCode === null) {
        const exited = new Promise((resolve) => nexus.once("exit", resolve));
        nexus.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

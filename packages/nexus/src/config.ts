import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** What enrolling leaves on disk: where the server is and this territory's credential (mode 0600). */
export const nexusFile = z.object({
  server_url: z.string().url(),
  territory_id: z.string(),
  territory_token: z.string(),
});
export type NexusFile = z.infer<typeof nexusFile>;

export function defaultDir(): string {
  return process.env.CYBROS_NEXUS_DIR ?? path.join(os.homedir(), ".cybros-nexus");
}

const configPath = (dir: string) => path.join(dir, "nexus.json");

export function readConfig(dir: string): NexusFile {
  const file = configPath(dir);
  if (!fs.existsSync(file)) throw new Error(`No ${file}: run \`cybros-nexus enroll\` first`);
  return nexusFile.parse(JSON.parse(fs.readFileSync(file, "utf8")));
}

export function writeConfig(dir: string, config: NexusFile): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(configPath(dir), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** This machine's platform as a territory reports it; CYBROS_NEXUS_PLATFORM stands in (a test territory that says it is a Mac). */
export function nexusPlatform(): string {
  return process.env.CYBROS_NEXUS_PLATFORM ?? `${process.platform}-${process.arch}`;
}

import os from "node:os";
import { parseArgs } from "node:util";
import { ConduitsClient } from "./client.js";
import { defaultDir, readConfig, writeConfig } from "./config.js";
import { NEXUS_VERSION, Nexus } from "./daemon.js";
import { bwrapWorks } from "./drivers.js";

const USAGE = `cybros-nexus ${NEXUS_VERSION}: runs Cybros directives on this machine

  cybros-nexus enroll --server <url> --token <enrollment token> [--name <name>] [--dir <dir>]
  cybros-nexus run [--dir <dir>] [--slots <n>]
  cybros-nexus doctor [--dir <dir>]

<dir> holds the credential and the facilities (default $CYBROS_NEXUS_DIR or ~/.cybros-nexus).`;

const log = (message: string) => console.error(`[cybros-nexus] ${message}`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      name: { type: "string" },
      dir: { type: "string" },
      slots: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const dir = values.dir ?? defaultDir();
  const slots = Number(values.slots ?? "1");
  switch (positionals[0]) {
    case "enroll": {
      if (!values.server || !values.token) throw new Error("enroll needs --server and --token");
      const enrolled = await ConduitsClient.enroll(values.server, {
        enroll_token: values.token,
        name: values.name ?? os.hostname(),
        // CYBROS_NEXUS_PLATFORM stands in for this machine's (a test territory that says it is a Mac).
        platform: process.env.CYBROS_NEXUS_PLATFORM ?? `${process.platform}-${process.arch}`,
        labels: {},
        capacity: slots,
      });
      writeConfig(dir, {
        server_url: values.server,
        territory_id: enrolled.territory_id,
        territory_token: enrolled.territory_token,
      });
      console.log(`Enrolled as territory ${enrolled.territory_id}; credential in ${dir}`);
      return 0;
    }
    case "run": {
      if (!Number.isInteger(slots) || slots < 1) throw new Error("--slots must be a whole number ≥ 1");
      const config = readConfig(dir);
      const stop = new AbortController();
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
      log(`territory ${config.territory_id} polling ${config.server_url} with ${slots} slot(s)`);
      await new Nexus(new ConduitsClient(config.server_url, config.territory_token), { dir, slots, log }).run(
        stop.signal,
      );
      return 0;
    }
    case "doctor": {
      let healthy = true;
      const check = (name: string, ok: boolean, detail: string) => {
        healthy &&= ok;
        console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${detail}`);
      };
      check("node", true, process.version);
      try {
        const config = readConfig(dir);
        check("credential", true, `territory ${config.territory_id} at ${config.server_url}`);
      } catch (error) {
        check("credential", false, (error as Error).message);
      }
      check("driver host", process.platform !== "win32", "a process group per directive (POSIX)");
      const bwrap = bwrapWorks();
      console.log(`${bwrap.ok ? "ok  " : "no  "} driver bwrap: ${bwrap.detail}`);
      return healthy ? 0 : 1;
    }
    default:
      console.log(USAGE);
      return values.help ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    log((error as Error).message);
    process.exit(1);
  },
);

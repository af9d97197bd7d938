import { afterEach, describe, expect, it } from "vitest";
import { describeOnPostgres, startTestServer, type TestServer, usingPostgres } from "../testing/harness.js";
import { type PeriodicTask, runTick, startPeriodicTasks } from "./periodic.js";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0).reverse()) await server.close();
});

async function start(databaseUrl?: string): Promise<TestServer> {
  const server = await startTestServer(databaseUrl ? { databaseUrl } : {});
  servers.push(server);
  return server;
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe(`periodic tasks (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("runs a task every interval until stopped, and a failing tick does not stop the next", async () => {
    const server = await start();
    const thirdTick = gate();
    let ticks = 0;
    const task: PeriodicTask = {
      name: "count",
      interval: 5,
      handler: async () => {
        ticks++;
        if (ticks === 1) throw new Error("first tick fails");
        if (ticks === 3) thirdTick.open();
      },
    };
    const tasks = startPeriodicTasks(server.services, [task]);
    await thirdTick.opened;
    await tasks.stop();
    const stoppedAt = ticks;
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    expect(server.logs().some((entry) => entry.msg === "periodic task failed" && entry.task === "count")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toBe(stoppedAt);
  });

  it("stop waits for the tick that is running", async () => {
    const server = await start();
    const entered = gate();
    const release = gate();
    let finished = false;
    const tasks = startPeriodicTasks(server.services, [
      {
        name: "slow",
        interval: 1,
        handler: async () => {
          entered.open();
          await release.opened;
          finished = true;
        },
      },
    ]);
    await entered.opened;
    const stopping = tasks.stop();
    release.open();
    await stopping;
    expect(finished).toBe(true);
  });
});

if (!usingPostgres) {
  console.info("periodic.test.ts: two processes on one database need PostgreSQL; that case runs in its suite");
}

describeOnPostgres("periodic tasks on one PostgreSQL database from two processes", () => {
  it("runs one tick of a task at a time: the other process skips while one holds it", async () => {
    const a = await start();
    const b = await start(a.config.databaseUrl);
    const entered = gate();
    const release = gate();
    const ranIn: string[] = [];
    const task = (process: string): PeriodicTask => ({
      name: "exclusive",
      interval: 60_000,
      handler: async () => {
        ranIn.push(process);
        entered.open();
        await release.opened;
      },
    });
    const onA = runTick(a.services, task("a"));
    await entered.opened;
    expect(await runTick(b.services, task("b"))).toBe(false);
    release.open();
    expect(await onA).toBe(true);
    expect(await runTick(b.services, task("b"))).toBe(true);
    expect(ranIn).toEqual(["a", "b"]);
  });
});

import { afterAll, expect, it } from "vitest";
import { EventStreamReader } from "../testing/events.js";
import {
  describeOnPostgres,
  OWNER,
  startSignedIn,
  startTestServer,
  type TestServer,
  usingPostgres,
} from "../testing/harness.js";

if (!usingPostgres) {
  console.info(
    "multiprocess.test.ts: not run on PGlite (one process per data folder); it runs in the PostgreSQL suite",
  );
}

describeOnPostgres("two server processes on one PostgreSQL database", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
  });

  it("a client of process B sees, live, a run executed by process A", async () => {
    const { server: a, client: clientA } = await startSignedIn();
    servers.push(a);
    await a.url();
    const b = await startTestServer({ databaseUrl: a.config.databaseUrl });
    servers.push(b);
    await b.url();
    const clientB = b.client();
    expect((await clientB.post("/api/session", OWNER)).status).toBe(201);

    const { agents } = await (await clientA.get("/api/agents")).json();
    const assistant = agents.find((a: { profileSource: string }) => a.profileSource === "bundled:default-assistant");
    const conversation = await (await clientA.post("/api/conversations", { agentProgramId: assistant.id })).json();
    const onB = await EventStreamReader.open(clientB, conversation.id, 0);
    const { run } = await (
      await clientA.post(`/api/conversations/${conversation.id}/messages`, {
        content: "/mock long kb=4 delay=5 chunk_size=100",
      })
    ).json();
    const succeeded = await onB.waitFor((e) => e.kind === "run_succeeded" && e.run_id === run.id);
    expect(succeeded.run_id).toBe(run.id);
    const complete = await onB.waitForKind("stream_complete", (e) => e.run_id === run.id);
    expect(complete.text.length).toBeGreaterThanOrEqual(4096);
    // Persisted chunks reached B while the reply streamed, before it completed.
    const firstChunk = onB.events.findIndex((e) => e.kind === "stream_chunk");
    expect(firstChunk).toBeGreaterThan(-1);
    expect(firstChunk).toBeLessThan(onB.events.indexOf(complete));
    onB.close();
  });
});

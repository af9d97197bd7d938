import http from "node:http";
import { afterAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./testing/harness.js";

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
});

it("keeps an idle connection open longer than clients keep theirs, so a reused one is never cut mid-request", async () => {
  server = await startTestServer();
  const url = await server.url();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<{ keepAlive: unknown; socket: unknown }>((resolve, reject) => {
      http
        .get(`${url}/up`, { agent }, (response) => {
          response.resume();
          response.on("end", () => resolve({ keepAlive: response.headers["keep-alive"], socket: response.socket }));
        })
        .on("error", reject);
    });
  const first = await get();
  const second = await get();
  agent.destroy();
  // Node's own agent drops an idle socket after 5 s; the server announces it keeps one for 65 s.
  expect(first.keepAlive).toBe("timeout=65");
  expect(second.socket).toBe(first.socket);
});

import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { nodeSseSink, type SseSink } from "./sse.js";

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A real socket: the sink on the server side, the response on the client side, and the socket's write calls. */
async function connect(): Promise<{ sink: SseSink; response: IncomingMessage; socketWrites: () => number }> {
  let writes = 0;
  const opened = new Promise<SseSink>((resolve) => {
    server = http.createServer((_req, res) => {
      type Write = (...args: unknown[]) => unknown;
      const socket = res.socket as unknown as { _write: Write; _writev: Write };
      const count =
        (original: Write): Write =>
        (...args) => {
          writes++;
          return original.apply(socket, args);
        };
      socket._write = count(socket._write);
      socket._writev = count(socket._writev);
      resolve(nodeSseSink(res));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server!.address() as AddressInfo;
  const response = await new Promise<IncomingMessage>((resolve) => http.get(`http://127.0.0.1:${port}/`, resolve));
  const sink = await opened;
  await new Promise((resolve) => setImmediate(resolve));
  return { sink, response, socketWrites: () => writes };
}

it("sends frames written in one go in one socket write, before a long run of promise callbacks ends", async () => {
  const { sink, response, socketWrites } = await connect();
  expect(response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
  const before = socketWrites();
  sink.write("data: 1\n\n");
  sink.write("data: 2\n\n");
  sink.write("data: 3\n\n");
  // Node's own uncork waits for the next tick, which comes only after every promise callback has run.
  const writesDuringChain: number[] = [];
  let chain = Promise.resolve();
  for (let i = 0; i < 100; i++) {
    chain = chain.then(() => {
      if (i === 10) writesDuringChain.push(socketWrites() - before);
    });
  }
  await chain;
  expect(writesDuringChain).toEqual([1]);
  response.setEncoding("utf8");
  let text = "";
  for await (const part of response) {
    text += part;
    if (text.includes("data: 3")) break;
  }
  expect(text).toContain("data: 1\n\ndata: 2\n\ndata: 3\n\n");
});

it("waits for the client to read under backpressure, and stops waiting when it leaves", async () => {
  const { sink, response } = await connect();
  response.pause();
  const big = `data: ${"x".repeat(256 * 1024)}\n\n`;
  let waiting: Promise<void> | undefined;
  for (let i = 0; i < 1000 && !waiting; i++) waiting = sink.write(big);
  expect(waiting).toBeInstanceOf(Promise);
  response.resume();
  await waiting;

  response.pause();
  waiting = undefined;
  for (let i = 0; i < 1000 && !waiting; i++) waiting = sink.write(big);
  expect(waiting).toBeInstanceOf(Promise);
  response.destroy();
  await waiting;
  expect(sink.closed.aborted).toBe(true);
});

import http from "node:http";
import type { AddressInfo } from "node:net";

/** A throwaway HTTP server on 127.0.0.1 for tests of outbound requests; counts the requests it got. */
export interface LocalHttpServer {
  url: string;
  port: number;
  /** host:port, as an allowlist entry. */
  host: string;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

export async function startLocalHttp(handler: http.RequestListener): Promise<LocalHttpServer> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

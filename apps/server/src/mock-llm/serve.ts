import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { MockLlm, type MockLlmOptions } from "./index.js";
import { mockLlmInspectionRoutes, mockLlmRoutes } from "./routes.js";

export interface ServedMockLlm {
  mock: MockLlm;
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:PORT/mock_llm/v1 */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The mock on its own HTTP server, without the database or the rest of the app: for LLM client tests and
 * for benchmarks that want the provider in another process.
 */
export async function serveMockLlm(
  options: MockLlmOptions & { port?: number; host?: string } = {},
): Promise<ServedMockLlm> {
  const mock = new MockLlm(options);
  const app = new Hono()
    .route("/mock_llm/v1", mockLlmRoutes(mock))
    .route("/mock_llm/v1", mockLlmInspectionRoutes(mock));
  const host = options.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, (info) => {
      resolve({
        mock,
        baseUrl: `http://${host}:${info.port}/mock_llm/v1`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once("error", reject);
  });
}

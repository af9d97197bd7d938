import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { MockLlm } from "../apps/server/src/mock-llm/index.js";
import { mockLlmInspectionRoutes, mockLlmRoutes } from "../apps/server/src/mock-llm/routes.js";

/**
 * The mock LLM as its own process for the benchmarks: the provider's CPU is not the measured server's.
 * Prints {"baseUrl": …} once listening. GET /bench/requests lists recent requests compactly (no prompts):
 * the tag line under the directive, when the request arrived and how it ended.
 */
const mock = new MockLlm({ requestLogBytes: 512 * 1024 * 1024, promptCacheSize: 4_096 });
const app = new Hono()
  .route("/mock_llm/v1", mockLlmRoutes(mock))
  .route("/mock_llm/v1", mockLlmInspectionRoutes(mock))
  .get("/bench/requests", (c) =>
    c.json(
      mock.requests().map((r) => {
        const last = r.messages.findLast((m) => m.role === "user");
        const text = typeof last?.content === "string" ? last.content : "";
        return {
          id: r.id,
          receivedAt: r.receivedAt,
          tag: text.split("\n")[1] ?? "",
          promptTokens: r.promptTokens,
          cachedTokens: r.cachedTokens,
          chunksSent: r.chunksSent,
          outcome: r.outcome,
        };
      }),
    ),
  )
  .delete("/bench/cache", (c) => {
    mock.reset();
    return c.body(null, 204);
  });

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  console.log(JSON.stringify({ baseUrl: `http://127.0.0.1:${info.port}/mock_llm/v1` }));
});
const stop = () => {
  server.close(() => process.exit(0));
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

import http from "node:http";

/**
 * The floor of the latency scenario: a relay with none of the server's work (no database, no runs, no prompt),
 * between the same mock process and the same client. GET /?count=&delay= opens one streamed completion at the mock
 * and forwards each text delta the moment it is parsed, framed as the server frames a live chunk. What this adds
 * to the mock's stamps is what two process hops cost on this machine. `tag`, when given, goes on the line under the
 * directive, as a send's tag does (first-chunk times the mock's receipt of it). Prints {"url": …} once listening.
 */
const mock = process.env.MOCK_URL!;

const server = http.createServer((req, res) => {
  const query = new URL(req.url ?? "/", "http://relay").searchParams;
  const tag = query.get("tag");
  const directive = `/mock stamps count=${Number(query.get("count"))} delay=${Number(query.get("delay"))}${tag ? `\n${tag}` : ""}`;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
  const upstream = http.request(`${mock}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  upstream.on("response", (stream) => {
    stream.setEncoding("utf8");
    let buffer = "";
    stream.on("data", (text: string) => {
      buffer += text;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (delta) res.write(`data: ${JSON.stringify({ kind: "stream_chunk", seq: null, text: delta })}\n\n`);
      }
    });
    stream.on("end", () => res.end());
  });
  upstream.on("error", () => res.destroy());
  upstream.end(JSON.stringify({ model: "mock-model", stream: true, messages: [{ role: "user", content: directive }] }));
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/` }));
});
process.on("SIGTERM", () => process.exit(0));

import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalHttpServer, startLocalHttp } from "../testing/local-http.js";
import { isAllowlisted, isForbiddenAddress } from "./addresses.js";
import { addressPolicy, OutboundError, outboundRequest } from "./index.js";

let target: LocalHttpServer;
let other: LocalHttpServer;

beforeAll(async () => {
  target = await startLocalHttp((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/hello") return res.end("hello");
    if (url.pathname === "/hop") {
      const left = Number(url.searchParams.get("n"));
      res.writeHead(302, { location: left ? `/hop?n=${left - 1}` : "/hello" });
      return res.end();
    }
    if (url.pathname === "/loop") {
      res.writeHead(301, { location: "/loop" });
      return res.end();
    }
    if (url.pathname === "/to") {
      res.writeHead(302, { location: url.searchParams.get("url")! });
      return res.end();
    }
    if (url.pathname === "/big") {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end("x".repeat(3 * 1024 * 1024));
    }
    if (url.pathname === "/gzip") {
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      return res.end(zlib.gzipSync("compressed body"));
    }
    if (url.pathname === "/hang") return; // never answers
    if (url.pathname === "/stall") {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.write("the first part "); // and nothing more
    }
    if (url.pathname === "/stall-gzip") {
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      const gzip = zlib.createGzip();
      gzip.pipe(res);
      gzip.write("the first part ");
      return gzip.flush();
    }
    if (url.pathname === "/post") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => res.end(`${req.method} ${body}`));
      return;
    }
    res.writeHead(404).end();
  });
  // Never allowlisted: every test that must not connect points here and checks it got nothing.
  other = await startLocalHttp((_req, res) => res.end("should never be reached"));
});
afterAll(async () => {
  await target?.close();
  await other?.close();
});

async function refusal(url: string, allowlist: string[] = []): Promise<OutboundError> {
  const error = await outboundRequest(url, { allowlist }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

describe("which addresses are forbidden", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "not an address",
  ])("%s is forbidden", (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it.each([
    "http://10.0.0.1/",
    "http://192.168.0.10:8080/admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/",
  ])("%s is refused before any connection", (url) => {
    expect(() => addressPolicy(new URL(url), [])).toThrow(/private, loopback or link-local/);
  });
});

describe("the allowlist", () => {
  it("matches hosts, ports and IPv6 entries", () => {
    const url = (u: string) => new URL(u);
    expect(isAllowlisted(url("http://127.0.0.1:8080/x"), ["127.0.0.1:8080"])).toBe(true);
    expect(isAllowlisted(url("http://127.0.0.1:8081/x"), ["127.0.0.1:8080"])).toBe(false);
    expect(isAllowlisted(url("http://127.0.0.1:8081/x"), ["127.0.0.1"])).toBe(true);
    expect(isAllowlisted(url("http://intranet.local/"), ["INTRANET.local:80"])).toBe(true);
    expect(isAllowlisted(url("https://intranet.local/"), ["intranet.local:80"])).toBe(false);
    expect(isAllowlisted(url("http://[::1]:9000/"), ["[::1]:9000"])).toBe(true);
    expect(isAllowlisted(url("http://[::1]:9000/"), ["::1"])).toBe(true);
    expect(isAllowlisted(url("http://searx.lan:8888/search"), ["http://searx.lan:8888/"])).toBe(true);
    expect(isAllowlisted(url("http://evil.example/"), ["intranet.local", "not a host!"])).toBe(false);
  });
});

describe("outbound requests", () => {
  it.each([
    "http://127.0.0.1:PORT/hello",
    "http://127.1.2.3:PORT/hello",
    "http://[::1]:PORT/hello",
    "http://[::ffff:127.0.0.1]:PORT/hello",
    "http://0x7f.1:PORT/hello",
    "http://2130706433:PORT/hello",
    "http://0.0.0.0:PORT/hello",
  ])("refuses a loopback address written as %s", async (template) => {
    const error = await refusal(template.replace("PORT", String(other.port)));
    expect(error.code).toBe("forbidden_address");
    expect(error.message).toMatch(/allow it in System settings/);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a hostname that resolves to loopback (localhost), after DNS", async () => {
    const error = await refusal(`http://localhost:${other.port}/hello`);
    expect(error.code).toBe("forbidden_address");
    expect(error.message).toMatch(/localhost:\d+ \(resolves to (127\.0\.0\.1|::1)\)/);
    expect(other.requests).toHaveLength(0);
  });

  it("fetches an allowlisted host:port, and only that port", async () => {
    const response = await outboundRequest(`${target.url}/hello`, { allowlist: [target.host] });
    expect(response).toMatchObject({ status: 200, url: `${target.url}/hello`, truncated: false });
    expect(response.body.toString()).toBe("hello");
    expect((await refusal(`${other.url}/`, [target.host])).code).toBe("forbidden_address");
    expect(other.requests).toHaveLength(0);
  });

  it("follows redirects within the allowlist, at most 5", async () => {
    const followed = await outboundRequest(`${target.url}/hop?n=3`, { allowlist: [target.host] });
    expect(followed.url).toBe(`${target.url}/hello`);
    expect(followed.body.toString()).toBe("hello");

    const before = target.requests.length;
    const error = await refusal(`${target.url}/loop`, [target.host]);
    expect(error.code).toBe("too_many_redirects");
    expect(target.requests.length - before).toBe(6);
  });

  it.each(["http://127.0.0.1:PORT/", "http://localhost:PORT/", "http://169.254.169.254/latest/meta-data/"])(
    "re-checks every redirect hop: a redirect to %s is refused",
    async (template) => {
      const location = template.replace("PORT", String(other.port));
      const error = await refusal(`${target.url}/to?url=${encodeURIComponent(location)}`, [target.host]);
      expect(error.code).toBe("forbidden_address");
      expect(other.requests).toHaveLength(0);
    },
  );

  it("refuses other schemes and credentials", async () => {
    expect((await refusal("ftp://example.com/file")).code).toBe("invalid_url");
    expect((await refusal("file:///etc/passwd")).code).toBe("invalid_url");
    expect((await refusal(`http://user:pw@${target.host}/hello`, [target.host])).code).toBe("invalid_url");
    expect((await refusal("not a url")).code).toBe("invalid_url");
  });

  it("stops downloading at the size cap (2 MB by default)", async () => {
    const capped = await outboundRequest(`${target.url}/big`, { allowlist: [target.host] });
    expect(capped.truncated).toBe("size");
    expect(capped.body.length).toBe(2 * 1024 * 1024);
    const small = await outboundRequest(`${target.url}/big`, { allowlist: [target.host], maxBytes: 1000 });
    expect(small.body.length).toBe(1000);
  });

  it("keeps what arrived by the deadline and marks it truncated, compressed or not", async () => {
    for (const path of ["/stall", "/stall-gzip"]) {
      const partial = await outboundRequest(`${target.url}${path}`, { allowlist: [target.host], timeoutMs: 300 });
      expect(partial.truncated, path).toBe("deadline");
      expect(partial.body.toString(), path).toBe("the first part ");
    }
    const silent = await outboundRequest(`${target.url}/hang`, { allowlist: [target.host], timeoutMs: 300 }).catch(
      (error: unknown) => error,
    );
    expect(silent).toMatchObject({ code: "timeout" });
  });

  it("is canceled, not truncated, when its caller stops it mid-body", async () => {
    const controller = new AbortController();
    const pending = outboundRequest(`${target.url}/stall`, { allowlist: [target.host], signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await pending.catch((error: unknown) => error)).toMatchObject({ code: "canceled" });
  });

  it("decodes gzip", async () => {
    const response = await outboundRequest(`${target.url}/gzip`, { allowlist: [target.host] });
    expect(response.body.toString()).toBe("compressed body");
  });

  it("sends a POST body", async () => {
    const response = await outboundRequest(`${target.url}/post`, {
      allowlist: [target.host],
      method: "POST",
      body: "payload",
    });
    expect(response.body.toString()).toBe("POST payload");
  });

  it("times out, and can be canceled", async () => {
    const timedOut = await outboundRequest(`${target.url}/hang`, { allowlist: [target.host], timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(timedOut).toMatchObject({ code: "timeout" });

    const controller = new AbortController();
    const pending = outboundRequest(`${target.url}/hang`, { allowlist: [target.host], signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "canceled" });
  });
});

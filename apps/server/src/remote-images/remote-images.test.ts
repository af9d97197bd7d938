import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAccount, updateSettings } from "../accounts/index.js";
import { startSignedIn, type TestClient, type TestServer } from "../testing/harness.js";
import { type LocalHttpServer, startLocalHttp } from "../testing/local-http.js";
import { MAX_REMOTE_IMAGE_BYTES } from "./index.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");

let server: TestServer;
let client: TestClient;
let site: LocalHttpServer;
let privateSite: LocalHttpServer;

beforeAll(async () => {
  ({ server, client } = await startSignedIn());
  site = await startLocalHttp((req, res) => {
    const path = new URL(req.url!, "http://x").pathname;
    if (path === "/cat.png") return res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    if (path === "/page.html") return res.writeHead(200, { "content-type": "text/html" }).end("<script>1</script>");
    if (path === "/logo.svg") {
      return res.writeHead(200, { "content-type": "image/svg+xml" }).end('<svg onload="alert(1)"/>');
    }
    if (path === "/huge.png") {
      return res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(MAX_REMOTE_IMAGE_BYTES + 1024));
    }
    res.writeHead(404).end();
  });
  privateSite = await startLocalHttp((_req, res) => res.writeHead(200, { "content-type": "image/png" }).end(PNG));
  const account = await defaultAccount(server.services.db);
  // Loopback is refused by the outbound guard; the test's "remote" host is allowed the way an admin would.
  await updateSettings(server.services.db, account, { webFetchAllowlist: [site.host] });
});
afterAll(async () => {
  await site?.close();
  await privateSite?.close();
  await server?.close();
});

const proxied = (url: string) => `/api/remote-image?url=${encodeURIComponent(url)}`;

describe("GET /api/remote-image", () => {
  it("serves an image's bytes with its type, nosniff and no script", async () => {
    const response = await client.get(proxied(`${site.url}/cat.png`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);
  });

  it("needs a session", async () => {
    const response = await server.client().get(proxied(`${site.url}/cat.png`));
    expect(response.status).toBe(401);
    expect(site.requests.filter((r) => r.url === "/cat.png")).toHaveLength(1);
  });

  it("refuses what is not a raster image: HTML and SVG", async () => {
    for (const path of ["/page.html", "/logo.svg"]) {
      const response = await client.get(proxied(`${site.url}${path}`));
      expect(response.status, path).toBe(415);
      expect((await response.json()).error.code).toBe("remote_image_not_an_image");
    }
  });

  it("refuses an image over the size cap", async () => {
    const response = await client.get(proxied(`${site.url}/huge.png`));
    expect(response.status).toBe(413);
  });

  it("refuses a private address without contacting it, and a URL that is not http(s)", async () => {
    const response = await client.get(proxied(`${privateSite.url}/cat.png`));
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("remote_image_forbidden_address");
    expect(privateSite.requests).toHaveLength(0);
    const local = await client.get(proxied("http://169.254.169.254/latest/meta-data"));
    expect(local.status).toBe(403);
    const file = await client.get(proxied("file:///etc/passwd"));
    expect(file.status).toBe(422);
    expect((await file.json()).error.fields.url).toMatch(/Only http and https/);
  });
});

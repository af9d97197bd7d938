import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, errorFromResponse, fieldErrors, formError, query, setCsrfToken } from "./api";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("errorFromResponse", () => {
  it("reads the API's error body, fields included", async () => {
    const error = await errorFromResponse(
      json(422, {
        error: {
          code: "validation_failed",
          message: "Some fields are invalid",
          fields: { headers: "is not valid JSON" },
        },
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe("validation_failed");
    expect(error.fields).toEqual({ headers: "is not valid JSON" });
    expect(error.hasFields).toBe(true);
  });

  it("falls back to a plain message when the body is not the API's shape", async () => {
    const error = await errorFromResponse(new Response("<html>Bad gateway</html>", { status: 502 }));
    expect(error.code).toBe("server_error");
    expect(error.message).toBe("Something went wrong on the server");
    expect(error.fields).toEqual({});
  });

  it("words a bare 404 and 429", async () => {
    expect((await errorFromResponse(new Response("", { status: 404 }))).message).toBe("Not found");
    expect((await errorFromResponse(new Response("", { status: 429 }))).message).toMatch(/try again later/);
  });
});

describe("request", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(null);
  });

  it("sends JSON, the CSRF token on writes, and same-origin credentials", async () => {
    const fetchMock = vi.fn(async () => json(201, { id: "1" }));
    vi.stubGlobal("fetch", fetchMock);
    setCsrfToken("token-1");
    await expect(api.post("/api/things", { a: 1 })).resolves.toEqual({ id: "1" });
    const [path, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/api/things");
    expect(init.method).toBe("POST");
    expect(init.credentials).toBe("same-origin");
    expect(init.body).toBe('{"a":1}');
    expect((init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("token-1");
    expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
  });

  it("does not send the token on reads", async () => {
    const fetchMock = vi.fn(async () => json(200, {}));
    vi.stubGlobal("fetch", fetchMock);
    setCsrfToken("token-1");
    await api.get("/api/things");
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
  });

  it("answers undefined for 204", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(null, { status: 204 })),
    );
    await expect(api.delete("/api/things/1")).resolves.toBeUndefined();
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    await expect(api.get("/api/things")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("throws the mapped error for a 422", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        json(422, { error: { code: "validation_failed", message: "x", fields: { name: "is required" } } }),
      ),
    );
    await expect(api.post("/api/things", {})).rejects.toMatchObject({ status: 422, fields: { name: "is required" } });
  });
});

describe("form helpers", () => {
  const validation = new ApiError(422, "validation_failed", "Some fields are invalid", {
    name: "is required",
    "headers.X-Foo": "must be a string",
  });

  it("fieldErrors reads fields only from ApiErrors", () => {
    expect(fieldErrors(validation)).toEqual(validation.fields);
    expect(fieldErrors(new Error("boom"))).toEqual({});
  });

  it("formError is null when every field message is shown inline", () => {
    expect(formError(validation, ["name", "headers.X-Foo"])).toBeNull();
  });

  it("formError names fields the form cannot show", () => {
    expect(formError(validation, ["name"])).toBe("headers.X-Foo must be a string");
  });

  it("formError shows non-field errors as they are", () => {
    expect(formError(new ApiError(409, "conflict", "Name taken"), ["name"])).toBe("Name taken");
    expect(formError(null, ["name"])).toBeNull();
  });

  it("query drops empty values", () => {
    expect(query({ q: "", archived: false, before: null, limit: 20 })).toBe("?limit=20");
    expect(query({})).toBe("");
    expect(query({ q: "a b", archived: true })).toBe("?q=a+b&archived=true");
  });
});

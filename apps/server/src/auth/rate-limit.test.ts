import { describe, expect, it } from "vitest";
import { RateLimitedError, UnauthorizedError } from "../errors.js";
import { LoginLimits } from "./rate-limit.js";

const OWNER = "owner@example.com";
const wrong = () => Promise.reject(new UnauthorizedError("Invalid email or password"));
const right = () => Promise.resolve("signed in");

async function outcome(attempt: Promise<unknown>): Promise<"ok" | "wrong" | "limited"> {
  try {
    await attempt;
    return "ok";
  } catch (error) {
    if (error instanceof RateLimitedError) return "limited";
    if (error instanceof UnauthorizedError) return "wrong";
    throw error;
  }
}

/** Limits whose pause for a locked email is counted, not waited. */
function limits() {
  const pauses = { count: 0 };
  const login = new LoginLimits(async () => {
    pauses.count++;
  });
  return { login, pauses };
}

describe("login limits", () => {
  it("stop one address guessing one email after ten failures", async () => {
    const { login } = limits();
    const results: string[] = [];
    for (let i = 0; i < 11; i++) results.push(await outcome(login.check(OWNER, "203.0.113.9", wrong)));
    expect(results.slice(0, 10)).toEqual(Array(10).fill("wrong"));
    expect(results[10]).toBe("limited");
    expect(await outcome(login.check(OWNER, "203.0.113.9", right))).toBe("limited");
  });

  it("let the owner's right password through after a pause when other addresses locked the email", async () => {
    const { login, pauses } = limits();
    // An attacker from many addresses and from one that keeps hammering.
    for (let i = 0; i < 10; i++) await outcome(login.check(OWNER, `198.51.100.${i}`, wrong));
    for (let i = 0; i < 15; i++) await outcome(login.check(OWNER, "203.0.113.9", wrong));
    expect(pauses.count).toBeGreaterThan(0);

    const before = pauses.count;
    expect(await outcome(login.check(OWNER, "192.0.2.1", right))).toBe("ok");
    expect(pauses.count).toBe(before + 1);
  });

  it("give each address only a few paused tries while the email is locked", async () => {
    const { login } = limits();
    for (let i = 0; i < 10; i++) await outcome(login.check(OWNER, `198.51.100.${i}`, wrong));
    const results: string[] = [];
    for (let i = 0; i < 4; i++) results.push(await outcome(login.check(OWNER, "203.0.113.50", wrong)));
    expect(results).toEqual(["wrong", "wrong", "wrong", "limited"]);
    // Other emails are not locked.
    expect(await outcome(login.check("someone@example.com", "203.0.113.51", right))).toBe("ok");
  });

  it("count successes from one address as nothing", async () => {
    const { login, pauses } = limits();
    for (let i = 0; i < 30; i++) expect(await outcome(login.check(OWNER, "192.0.2.1", right))).toBe("ok");
    expect(pauses.count).toBe(0);
  });
});

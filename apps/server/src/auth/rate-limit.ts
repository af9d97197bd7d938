import { RateLimitedError } from "../errors.js";

/**
 * A fixed-window counter in process memory. Enough for a single-server install; a fleet would move this to
 * the database. Old windows are swept lazily.
 */
export class RateLimiter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt for `key`; throws RateLimitedError when over the limit. */
  hit(key: string, now = Date.now()): void {
    if (this.hits.size > 10_000) this.sweep(now);
    const entry = this.hits.get(key);
    if (!entry || entry.resetAt <= now) {
      this.hits.set(key, { count: 1, resetAt: now + this.windowMs });
      return;
    }
    entry.count++;
    if (entry.count > this.limit) throw new RateLimitedError(Math.ceil((entry.resetAt - now) / 1000));
  }

  /** Takes back one attempt counted for `key` (a login that succeeded is not an attempt to guess). */
  forgive(key: string): void {
    const entry = this.hits.get(key);
    if (entry && entry.count > 0) entry.count--;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.hits) if (entry.resetAt <= now) this.hits.delete(key);
  }
}

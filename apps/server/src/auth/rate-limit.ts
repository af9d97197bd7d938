import { RateLimitedError, UnauthorizedError } from "../errors.js";

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
    const entry = this.count(key, now);
    if (entry.count > this.limit) throw new RateLimitedError(Math.ceil((entry.resetAt - now) / 1000));
  }

  /** Counts one attempt for `key` without refusing it. */
  count(key: string, now = Date.now()): { count: number; resetAt: number } {
    if (this.hits.size > 10_000) this.sweep(now);
    const entry = this.hits.get(key);
    if (!entry || entry.resetAt <= now) {
      const fresh = { count: 1, resetAt: now + this.windowMs };
      this.hits.set(key, fresh);
      return fresh;
    }
    entry.count++;
    return entry;
  }

  /** Whether `key` has used up its current window. */
  exhausted(key: string, now = Date.now()): boolean {
    const entry = this.hits.get(key);
    return Boolean(entry && entry.resetAt > now && entry.count >= this.limit);
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

const LOGIN_WINDOW_MS = 15 * 60_000;
/** While an email is locked by failures from elsewhere, what one address may still try, and how slowly. */
const TRIES_DURING_LOCK = 3;
const LOCKED_EMAIL_PAUSE_MS = 2_000;

/**
 * Failed sign-ins, limited so that guessing stops without letting an attacker lock the owner out
 * (decisions/0021). Per address (any email) and per email+address, attempts count as they arrive and a success
 * gives its own back. Failures from all addresses together lock an email; while it is locked, an address
 * gets a few attempts, each checked after a pause: the owner's right password still gets in, and a guesser
 * gains a few tries per address per window.
 */
export class LoginLimits {
  private readonly perAddress = new RateLimiter(20, LOGIN_WINDOW_MS);
  private readonly perEmailAndAddress = new RateLimiter(10, LOGIN_WINDOW_MS);
  private readonly failuresPerEmail = new RateLimiter(10, LOGIN_WINDOW_MS);
  private readonly duringLock = new RateLimiter(TRIES_DURING_LOCK, LOGIN_WINDOW_MS);

  constructor(private readonly pause: () => Promise<void> = () => wait(LOCKED_EMAIL_PAUSE_MS)) {}

  /**
   * Runs `verify` (the password check) as one counted attempt: refused with RateLimitedError when over a limit,
   * paused while the email is locked. An UnauthorizedError from `verify` counts as a failure.
   */
  async check<T>(email: string, address: string, verify: () => Promise<T>): Promise<T> {
    const pair = pairKey(email, address);
    this.perAddress.hit(address);
    this.perEmailAndAddress.hit(pair);
    if (this.failuresPerEmail.exhausted(email.toLowerCase())) {
      this.duringLock.hit(pair);
      await this.pause();
    }
    try {
      const verified = await verify();
      this.perAddress.forgive(address);
      this.perEmailAndAddress.reset(pair);
      this.duringLock.reset(pair);
      return verified;
    } catch (error) {
      if (error instanceof UnauthorizedError) this.failuresPerEmail.count(email.toLowerCase());
      throw error;
    }
  }
}

function pairKey(email: string, address: string): string {
  return `${email.toLowerCase()}\n${address}`;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

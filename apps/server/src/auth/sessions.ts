import { createHash, randomBytes } from "node:crypto";
import { and, eq, lt, ne, or, sql } from "drizzle-orm";
import type { Current, Session } from "../current.js";
import { builtOnce, type Db } from "../db/index.js";
import { accounts, identities, sessions, users } from "../db/schema.js";
import { uuidv7 } from "../ids.js";

const TOUCH_INTERVAL_MS = 60_000;

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** How long a session lives: `idleMs` without use, `maxAgeMs` at most (Config.sessionIdleMs / sessionMaxAgeMs). */
export interface SessionLifetime {
  idleMs: number;
  maxAgeMs: number;
}

function expired(session: Session, lifetime: SessionLifetime, now: number): boolean {
  return now - session.lastSeenAt.getTime() > lifetime.idleMs || now - session.createdAt.getTime() > lifetime.maxAgeMs;
}

/** Deletes every expired session (at sign-in and when sessions are listed: no job needed for a table this small). */
export async function deleteExpiredSessions(db: Db, lifetime: SessionLifetime, now = Date.now()): Promise<void> {
  await db
    .delete(sessions)
    .where(
      or(
        lt(sessions.lastSeenAt, new Date(now - lifetime.idleMs)),
        lt(sessions.createdAt, new Date(now - lifetime.maxAgeMs)),
      ),
    );
}

export interface NewSession {
  session: Session;
  /** Goes into the signed cookie; never stored. */
  token: string;
}

export async function createSession(
  db: Db,
  identityId: string,
  client: { ip: string | null; userAgent: string | null },
): Promise<NewSession> {
  const token = randomBytes(32).toString("base64url");
  const [session] = await db
    .insert(sessions)
    .values({
      id: uuidv7(),
      identityId,
      tokenHash: hashToken(token),
      csrfToken: randomBytes(24).toString("base64url"),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    })
    .returning();
  return { session: session!, token };
}

/** Resolves a cookie token to the full current context, or undefined when the session is gone. */
const sessionByTokenHash = builtOnce((db) =>
  db
    .select({ session: sessions, identity: identities, user: users, account: accounts })
    .from(sessions)
    .innerJoin(identities, eq(identities.id, sessions.identityId))
    .innerJoin(users, eq(users.identityId, identities.id))
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(sessions.tokenHash, sql.placeholder("tokenHash")))
    .limit(1)
    .prepare("session_by_token_hash"),
);

/** An expired session is refused and deleted on the spot. */
export async function resumeSession(db: Db, token: string, lifetime: SessionLifetime): Promise<Current | undefined> {
  const [row] = await sessionByTokenHash(db).execute({ tokenHash: hashToken(token) });
  if (!row) return undefined;
  if (expired(row.session, lifetime, Date.now())) {
    await endSession(db, row.session.id);
    return undefined;
  }
  if (Date.now() - row.session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    const lastSeenAt = new Date();
    await db.update(sessions).set({ lastSeenAt }).where(eq(sessions.id, row.session.id));
    row.session.lastSeenAt = lastSeenAt;
  }
  return row;
}

export async function listSessions(db: Db, identityId: string): Promise<Session[]> {
  return db.select().from(sessions).where(eq(sessions.identityId, identityId)).orderBy(sessions.lastSeenAt);
}

export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Signs out everywhere; `except` keeps one session (the one changing its password, say). */
export async function endAllSessions(db: Db, identityId: string, except?: string): Promise<number> {
  const where = except
    ? and(eq(sessions.identityId, identityId), ne(sessions.id, except))
    : eq(sessions.identityId, identityId);
  const removed = await db.delete(sessions).where(where).returning({ id: sessions.id });
  return removed.length;
}

import type { LoginInput, PasswordChangeInput, SetupInput } from "@cybros/protocol";
import { count, eq, sql } from "drizzle-orm";
import { defaultAccount } from "../accounts/index.js";
import type { Identity, User } from "../current.js";
import type { Db } from "../db/index.js";
import { identities, users } from "../db/schema.js";
import { ConflictError, UnauthorizedError, ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import { decoy, hashPassword, verifyPassword } from "./passwords.js";

export async function setupRequired(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(identities);
  return (row?.n ?? 0) === 0;
}

/**
 * First-run setup: creates the owner's Identity and User in one transaction. A transaction-scoped advisory
 * lock makes two simultaneous setups on a server database end with exactly one owner.
 */
export async function completeSetup(db: Db, input: SetupInput): Promise<{ identity: Identity; user: User }> {
  const passwordHash = await hashPassword(input.password);
  const account = await defaultAccount(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('cybros:setup'))`);
    const [existing] = await tx.select({ n: count() }).from(identities);
    if ((existing?.n ?? 0) > 0) throw new ConflictError("setup_complete", "Setup is already complete; sign in instead");
    const [identity] = await tx
      .insert(identities)
      .values({ id: uuidv7(), email: input.email, passwordHash })
      .returning();
    const [user] = await tx
      .insert(users)
      .values({ id: uuidv7(), identityId: identity!.id, accountId: account.id, role: "owner" })
      .returning();
    return { identity: identity!, user: user! };
  });
}

const INVALID_LOGIN = "Email or password is incorrect";

/** One generic error for an unknown email and a wrong password; the decoy keeps timing alike. */
export async function authenticate(db: Db, input: LoginInput): Promise<Identity> {
  const [identity] = await db
    .select()
    .from(identities)
    .where(eq(sql`lower(${identities.email})`, input.email.toLowerCase()))
    .limit(1);
  const ok = await verifyPassword(identity?.passwordHash ?? (await decoy()), input.password);
  if (!identity || !ok) throw new UnauthorizedError(INVALID_LOGIN, "invalid_credentials");
  return identity;
}

export async function changePassword(db: Db, identity: Identity, input: PasswordChangeInput): Promise<void> {
  if (!(await verifyPassword(identity.passwordHash, input.currentPassword))) {
    throw new ValidationError({ currentPassword: "is incorrect" });
  }
  await db
    .update(identities)
    .set({ passwordHash: await hashPassword(input.newPassword), updatedAt: new Date() })
    .where(eq(identities.id, identity.id));
}

import { type AccountSettings, accountSettings } from "@cybros/protocol";
import { eq } from "drizzle-orm";
import type { Account } from "../current.js";
import type { Db } from "../db/index.js";
import { accounts } from "../db/schema.js";
import { uuidv7 } from "../ids.js";

/** Phase 0 has one account; the first row is it. Created at start when missing. */
export async function ensureDefaultAccount(db: Db): Promise<Account> {
  const existing = await db.select().from(accounts).orderBy(accounts.createdAt).limit(1);
  if (existing[0]) return existing[0];
  const [created] = await db
    .insert(accounts)
    .values({ id: uuidv7(), name: "Default", settings: accountSettings.parse({}) })
    .returning();
  return created!;
}

export async function defaultAccount(db: Db): Promise<Account> {
  const [row] = await db.select().from(accounts).orderBy(accounts.createdAt).limit(1);
  if (!row) throw new Error("The default account is missing: seeds did not run");
  return row;
}

export function settingsOf(account: Account): AccountSettings {
  return accountSettings.parse(account.settings ?? {});
}

export async function updateSettings(db: Db, account: Account, patch: Partial<AccountSettings>): Promise<Account> {
  const settings = accountSettings.parse({ ...settingsOf(account), ...patch });
  const [row] = await db
    .update(accounts)
    .set({ settings, updatedAt: new Date() })
    .where(eq(accounts.id, account.id))
    .returning();
  return row!;
}

import { and, eq } from "drizzle-orm";
import { accountSecrets } from "../db/schema.js";
import type { Services } from "../services.js";

/**
 * Account-level secrets by name (e.g. "web_search.brave.api_key"), sealed with services.secrets. They live
 * apart from account settings so that presenting settings can never leak one; settings carry a flag instead.
 */

export async function putAccountSecret(
  services: Pick<Services, "db" | "secrets">,
  accountId: string,
  name: string,
  value: string,
): Promise<void> {
  const valueEncrypted = services.secrets.encrypt(value);
  await services.db
    .insert(accountSecrets)
    .values({ accountId, name, valueEncrypted })
    .onConflictDoUpdate({
      target: [accountSecrets.accountId, accountSecrets.name],
      set: { valueEncrypted, updatedAt: new Date() },
    });
}

export async function readAccountSecret(
  services: Pick<Services, "db" | "secrets">,
  accountId: string,
  name: string,
): Promise<string | undefined> {
  const [row] = await services.db
    .select({ valueEncrypted: accountSecrets.valueEncrypted })
    .from(accountSecrets)
    .where(and(eq(accountSecrets.accountId, accountId), eq(accountSecrets.name, name)));
  return row ? services.secrets.decrypt(row.valueEncrypted) : undefined;
}

export async function hasAccountSecret(services: Pick<Services, "db">, accountId: string, name: string) {
  const [row] = await services.db
    .select({ name: accountSecrets.name })
    .from(accountSecrets)
    .where(and(eq(accountSecrets.accountId, accountId), eq(accountSecrets.name, name)));
  return Boolean(row);
}

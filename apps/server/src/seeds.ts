import { ensureDefaultAccount } from "./accounts/index.js";
import { registerBundledAgents } from "./agents/registry.js";
import { sealPlainHeaderValues } from "./providers/index.js";
import { seedProviders } from "./providers/seeds.js";
import type { Services } from "./services.js";

/** Idempotent: run at every start, creates what is missing and changes nothing a user set. */
export async function seed(services: Services): Promise<void> {
  const account = await ensureDefaultAccount(services.db);
  await registerBundledAgents(services, account);
  await seedProviders(services, account);
  await sealPlainHeaderValues(services);
}

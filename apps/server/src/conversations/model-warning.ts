import type { ConversationDetail } from "@cybros/protocol";
import { eq } from "drizzle-orm";
import { loadAgentProgram } from "../agents/loader.js";
import type { Account } from "../current.js";
import { agentPrograms } from "../db/schema.js";
import { chooseModel, NoProviderForModelError } from "../providers/resolve.js";
import type { Services } from "../services.js";

/** Says plainly when no enabled provider serves the agent's models, before the person sends anything. */
export async function modelWarningFor(
  services: Services,
  account: Account,
  agentProgramId: string,
): Promise<ConversationDetail["modelWarning"]> {
  const [agent] = await services.db.select().from(agentPrograms).where(eq(agentPrograms.id, agentProgramId));
  if (!agent) return null;
  let prefer: string[] = [];
  try {
    prefer = (await loadAgentProgram(agent.localPath)).manifest.model.prefer;
  } catch {
    return null; // a broken program is reported when it runs, with the file and field at fault
  }
  try {
    await chooseModel(services.db, account, prefer);
    return null;
  } catch (error) {
    if (!(error instanceof NoProviderForModelError)) throw error;
    return { code: "no_provider_for_model", message: error.message, models: error.models };
  }
}

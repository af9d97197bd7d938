import fs from "node:fs/promises";
import path from "node:path";
import type { CreateAgentInput } from "@cybros/protocol";
import { and, eq, isNull, sql } from "drizzle-orm";
import { simpleGit } from "simple-git";
import type { Account } from "../current.js";
import { isUniqueViolation } from "../db/errors.js";
import { agentPrograms } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import { type AgentProgram, findProfile } from "./index.js";
import { MANIFEST_FILE, renameManifest } from "./manifest.js";

const NAME_TAKEN = "is already used by another agent";
/** Who commits in an agent's repository; set per repository so machines without a git identity work. */
const GIT_IDENTITY = { name: "Cybros", email: "cybros@localhost" };

/**
 * Creates an agent from a bundled profile: copies the profile's files into <data>/agents/<slug>, names it in
 * agent.yml, commits that as the repository's first commit, then inserts the row. Anything failing on the way
 * removes the folder, so there is never a folder without a row or a row without its repository.
 */
export async function createAgentFromProfile(
  services: Services,
  account: Account,
  input: CreateAgentInput,
): Promise<AgentProgram> {
  const profile = await findProfile(services.config, input.profile, services.log);
  if (!profile) throw new ValidationError({ profile: "is not a bundled profile" });
  await ensureNameFree(services, account, input.name);

  const folder = await reserveFolder(path.join(services.config.dataDir, "agents"), slugify(input.name));
  try {
    await fs.cp(profile.localPath, folder, {
      recursive: true,
      dereference: true,
      filter: (source) => path.basename(source) !== ".git",
    });
    const manifestFile = path.join(folder, MANIFEST_FILE);
    await fs.writeFile(
      manifestFile,
      renameManifest(await fs.readFile(manifestFile, "utf8"), input.name, input.description),
    );
    await commitFirstVersion(folder, `Create ${input.name} from the ${profile.id} profile`);
    const [program] = await services.db
      .insert(agentPrograms)
      .values({
        id: uuidv7(),
        accountId: account.id,
        name: input.name,
        description: input.description ?? profile.description,
        profileSource: `copy:${profile.id}`,
        localPath: folder,
        bundled: false,
      })
      .returning();
    services.log.info({ agentProgramId: program!.id, profile: profile.id }, "agent program created");
    return program!;
  } catch (error) {
    await fs.rm(folder, { recursive: true, force: true });
    // Another request took the name between the check above and this insert.
    if (isUniqueViolation(error, "agent_programs_account_name_idx")) throw new ValidationError({ name: NAME_TAKEN });
    throw error;
  }
}

async function ensureNameFree(services: Services, account: Account, name: string): Promise<void> {
  const [taken] = await services.db
    .select({ id: agentPrograms.id })
    .from(agentPrograms)
    .where(
      and(
        eq(agentPrograms.accountId, account.id),
        eq(sql`lower(${agentPrograms.name})`, name.toLowerCase()),
        isNull(agentPrograms.deletedAt),
      ),
    )
    .limit(1);
  if (taken) throw new ValidationError({ name: NAME_TAKEN });
}

export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return slug || "agent";
}

/** Creates an empty folder named after the slug, adding -2, -3… when taken; mkdir is the atomic claim. */
async function reserveFolder(parent: string, slug: string): Promise<string> {
  await fs.mkdir(parent, { recursive: true });
  for (let n = 1; ; n++) {
    const folder = path.join(parent, n === 1 ? slug : `${slug}-${n}`);
    try {
      await fs.mkdir(folder);
      return folder;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || n >= 1000) throw error;
    }
  }
}

async function commitFirstVersion(folder: string, message: string): Promise<void> {
  const git = simpleGit({ baseDir: folder, timeout: { block: 30_000 } });
  await git.init();
  // A fixed branch name whatever init.defaultBranch says; git 2.28's --initial-branch is not everywhere.
  await git.raw(["symbolic-ref", "HEAD", "refs/heads/main"]);
  await git.addConfig("user.name", GIT_IDENTITY.name);
  await git.addConfig("user.email", GIT_IDENTITY.email);
  // A user's global signing or hooks must not stop the server from committing its own files.
  await git.addConfig("commit.gpgsign", "false");
  await git.add(["--all", "."]);
  await git.commit(message, undefined, { "--no-verify": null });
}

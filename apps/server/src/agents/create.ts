import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CreateAgentInput } from "@cybros/protocol";
import { and, eq, isNull, sql } from "drizzle-orm";
import { simpleGit } from "simple-git";
import { settingsOf } from "../accounts/index.js";
import type { Account } from "../current.js";
import { isUniqueViolation } from "../db/errors.js";
import { agentPrograms } from "../db/schema.js";
import { ValidationError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Services } from "../services.js";
import { blankAgentFiles } from "./blank.js";
import { cloneAgentRepository, redactGitUrl } from "./clone.js";
import { AgentProgramError } from "./errors.js";
import { type AgentProgram, findProfile } from "./index.js";
import { loadAgentProgram } from "./loader.js";
import { MANIFEST_FILE, parseManifest, renameManifest } from "./manifest.js";

const NAME_TAKEN = "is already used by another agent";
/** Who commits in an agent's repository; set per repository so machines without a git identity work. */
const GIT_IDENTITY = { name: "Cybros", email: "cybros@localhost" };

/**
 * Creates an agent from one source (a bundled profile, a Git URL, or blank) into <data>/agents/<slug>, names it
 * in agent.yml, commits that as the repository's first commit, then inserts the row. Anything failing on the
 * way removes the folder, so there is never a folder without a row or a row without its repository.
 */
export async function createAgent(
  services: Services,
  account: Account,
  input: CreateAgentInput,
): Promise<AgentProgram> {
  if (input.gitUrl !== undefined) return createAgentFromGit(services, account, input, input.gitUrl);
  if (input.blank) {
    return createAgentFolder(services, account, input, {
      profileSource: "blank",
      commitMessage: `Create ${input.name} as a blank agent`,
      fill: async (folder) => {
        const description = input.description ?? "";
        for (const [file, content] of Object.entries(blankAgentFiles(input.name, description))) {
          await fs.mkdir(path.dirname(path.join(folder, file)), { recursive: true });
          await fs.writeFile(path.join(folder, file), content);
        }
        return description;
      },
    });
  }
  return createAgentFromProfile(services, account, input, input.profile ?? "");
}

async function createAgentFromProfile(
  services: Services,
  account: Account,
  input: CreateAgentInput,
  profileId: string,
): Promise<AgentProgram> {
  const profile = await findProfile(services.config, profileId, services.log);
  if (!profile) throw new ValidationError({ profile: "is not a bundled profile" });
  return createAgentFolder(services, account, input, {
    profileSource: `copy:${profile.id}`,
    commitMessage: `Create ${input.name} from the ${profile.id} profile`,
    fill: async (folder) => {
      await copyProgram(profile.localPath, folder, { dereference: true });
      await renameIn(folder, input);
      return input.description ?? profile.description;
    },
  });
}

/**
 * Clones into a scratch folder first, so what the agent's folder receives is a checked program without the
 * source's history: the new repository starts at one commit like every other agent's.
 */
async function createAgentFromGit(
  services: Services,
  account: Account,
  input: CreateAgentInput,
  gitUrl: string,
): Promise<AgentProgram> {
  await ensureNameFree(services, account, input.name);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "cybros-clone-"));
  try {
    const clone = path.join(scratch, "program");
    await fs.mkdir(clone);
    await cloneAgentRepository(gitUrl, clone, settingsOf(account).webFetchAllowlist);
    try {
      await loadAgentProgram(clone);
    } catch (error) {
      if (error instanceof AgentProgramError) {
        throw new ValidationError({ gitUrl: `is not a valid agent program: ${error.message}` });
      }
      throw error;
    }
    const source = redactGitUrl(gitUrl);
    return await createAgentFolder(services, account, input, {
      profileSource: `git:${source}`,
      commitMessage: `Create ${input.name} from ${source}`,
      fill: async (folder) => {
        await copyProgram(clone, folder, { dereference: false });
        const manifest = await renameIn(folder, input);
        return input.description ?? parseManifest(manifest).manifest.description;
      },
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function createAgentFolder(
  services: Services,
  account: Account,
  input: CreateAgentInput,
  source: { profileSource: string; commitMessage: string; fill: (folder: string) => Promise<string> },
): Promise<AgentProgram> {
  await ensureNameFree(services, account, input.name);
  const folder = await reserveFolder(path.join(services.config.dataDir, "agents"), slugify(input.name));
  try {
    const description = await source.fill(folder);
    await commitFirstVersion(folder, source.commitMessage);
    const [program] = await services.db
      .insert(agentPrograms)
      .values({
        id: uuidv7(),
        accountId: account.id,
        name: input.name,
        description,
        profileSource: source.profileSource,
        localPath: folder,
        bundled: false,
      })
      .returning();
    services.log.info({ agentProgramId: program!.id, source: source.profileSource }, "agent program created");
    return program!;
  } catch (error) {
    await fs.rm(folder, { recursive: true, force: true });
    // Another request took the name between the check above and this insert.
    if (isUniqueViolation(error, "agent_programs_account_name_idx")) throw new ValidationError({ name: NAME_TAKEN });
    throw error;
  }
}

async function copyProgram(from: string, to: string, options: { dereference: boolean }): Promise<void> {
  await fs.cp(from, to, {
    recursive: true,
    dereference: options.dereference,
    filter: (source) => path.basename(source) !== ".git",
  });
}

/** Names the copy in its agent.yml; answers the new text. */
async function renameIn(folder: string, input: CreateAgentInput): Promise<string> {
  const manifestFile = path.join(folder, MANIFEST_FILE);
  const renamed = renameManifest(await fs.readFile(manifestFile, "utf8"), input.name, input.description);
  await fs.writeFile(manifestFile, renamed);
  return renamed;
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

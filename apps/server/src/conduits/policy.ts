import path from "node:path";
import {
  type DirectiveRequest,
  type DriverName,
  type FacilityKind,
  type NetworkMode,
  networkModes,
  type PoliciesView,
  type PolicyDecision,
  type PolicyRules,
  type PolicyVerdict,
  policyVerdicts,
  type SandboxMode,
  sandboxModes,
} from "@cybros/protocol";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { facilities, territories } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import { policyLevelsFor, storedPolicies } from "./policy-levels.js";
import { analyzeCommand, commandName, type Invocation, PRIVILEGE_WRAPPERS, type Word } from "./shell.js";

/**
 * Policy: whether a directive runs, waits for a person, or never runs, and how (network, driver). Levels (account,
 * agent, facility) merge most-restrictive-wins; a field no level sets takes the territory's default. Each command
 * the text runs (shell.ts) is judged: deny rules, ask rules, dangerous patterns, places outside the workspace, and
 * the default; an allow rule skips a question but never a refusal (decisions/0032).
 */

export interface PolicyContext {
  facility: { kind: FacilityKind; root: string | null };
  territory: { local: boolean; drivers: string[] };
}

/** What applies where no level says otherwise: the embedded local territory, and any other (remote) one. */
export const DEFAULT_RULES = {
  local: {
    network: "open",
    outside_workspace: "needs_approval",
    dangerous: "needs_approval",
    default: "allowed",
    sandbox: "off",
  },
  remote: {
    network: "open",
    outside_workspace: "needs_approval",
    dangerous: "needs_approval",
    default: "allowed",
    sandbox: "when_available",
  },
} as const satisfies Record<"local" | "remote", PolicyRules>;

interface MergedPolicy {
  network: NetworkMode;
  /** Each level's `network_allowlist`; a host must be on all of them. */
  allowlists: string[][];
  outside: PolicyVerdict;
  dangerous: PolicyVerdict;
  fallback: PolicyVerdict;
  sandbox: SandboxMode;
  allow: string[];
  ask: string[];
  deny: string[];
}

const NETWORK_STRICTNESS: readonly NetworkMode[] = [...networkModes].reverse();

/** Per field, the strictest value any level sets, else the default; command rules and allowlists from every level. */
export function mergePolicy(levels: PolicyRules[], defaults: PolicyRules): MergedPolicy {
  const strictest = <T extends string>(order: readonly T[], values: (T | undefined)[], fallback: T): T => {
    const set = values.filter((value): value is T => value !== undefined);
    if (set.length === 0) return fallback;
    return set.reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a));
  };
  const all = (key: "allow" | "ask" | "deny") => levels.flatMap((level) => level.commands?.[key] ?? []);
  return {
    network: strictest(
      NETWORK_STRICTNESS,
      levels.map((l) => l.network),
      defaults.network ?? "open",
    ),
    allowlists: levels.flatMap((l) => (l.network_allowlist ? [l.network_allowlist] : [])),
    outside: strictest(
      policyVerdicts,
      levels.map((l) => l.outside_workspace),
      defaults.outside_workspace ?? "needs_approval",
    ),
    dangerous: strictest(
      policyVerdicts,
      levels.map((l) => l.dangerous),
      defaults.dangerous ?? "needs_approval",
    ),
    fallback: strictest(
      policyVerdicts,
      levels.map((l) => l.default),
      defaults.default ?? "allowed",
    ),
    sandbox: strictest(
      sandboxModes,
      levels.map((l) => l.sandbox),
      defaults.sandbox ?? "off",
    ),
    allow: all("allow"),
    ask: all("ask"),
    deny: all("deny"),
  };
}

/** Judges one directive request. Pure: everything it needs is in its arguments. */
export function decide(request: DirectiveRequest, context: PolicyContext, levels: PolicyRules[]): PolicyDecision {
  const policy = mergePolicy(levels, context.territory.local ? DEFAULT_RULES.local : DEFAULT_RULES.remote);
  const findings = new Findings();
  judgeCommands(request, context.facility.root, policy, findings);
  const network = judgeNetwork(request, policy, findings);
  const driver = chooseDriver(request, context, policy, network.limitedByPolicy, findings);
  const { decision, reasons } = findings.verdict();
  return { decision, reasons, network: network.mode, network_allowlist: network.hosts, driver };
}

/**
 * Loads the policy levels that apply (the account's, the agent's, the facility's) and the facility's territory,
 * then decides. `services` may be a transaction (`{ db: tx }`).
 */
export async function decideDirective(
  services: { db: Db },
  input: { accountId: string; agentProgramId?: string | null; facilityId: string; request: DirectiveRequest },
): Promise<PolicyDecision> {
  const [place] = await services.db
    .select({ kind: facilities.kind, root: facilities.root, local: territories.local, drivers: territories.drivers })
    .from(facilities)
    .innerJoin(territories, eq(territories.id, facilities.territoryId))
    .where(and(eq(facilities.id, input.facilityId), eq(facilities.accountId, input.accountId)));
  if (!place) throw new NotFoundError("Facility");
  const levels = await policyLevelsFor(services.db, {
    accountId: input.accountId,
    agentProgramId: input.agentProgramId ?? null,
    facilityId: input.facilityId,
  });
  return decide(
    input.request,
    { facility: { kind: place.kind, root: place.root }, territory: { local: place.local, drivers: place.drivers } },
    levels,
  );
}

/** `GET /api/policies`: what is set per level, and the defaults that fill what is not. */
export async function policiesView(db: Db, accountId: string): Promise<PoliciesView> {
  return { ...(await storedPolicies(db, accountId)), defaults: DEFAULT_RULES };
}

// Findings: each reason with the verdict it carries; the decision is the strictest.

class Findings {
  private readonly found: { verdict: PolicyVerdict; reason: string }[] = [];

  add(verdict: PolicyVerdict, reason: string): void {
    if (verdict !== "allowed") this.found.push({ verdict, reason });
  }

  verdict(): { decision: PolicyVerdict; reasons: string[] } {
    const decision = this.found.reduce<PolicyVerdict>(
      (strictest, { verdict }) => (rank(verdict) > rank(strictest) ? verdict : strictest),
      "allowed",
    );
    const reasons = [...new Set(this.found.filter((f) => f.verdict === decision).map((f) => f.reason))];
    return { decision, reasons };
  }
}

const rank = (verdict: PolicyVerdict) => policyVerdicts.indexOf(verdict);

// Commands

function judgeCommands(request: DirectiveRequest, root: string | null, policy: MergedPolicy, findings: Findings): void {
  const analysis = analyzeCommand(request.command);
  if (analysis.error) findings.add(policy.dangerous, analysis.error);
  for (const source of analysis.sources) {
    if (isForkBomb(source)) findings.add(policy.dangerous, "dangerous pattern: fork bomb");
  }
  if ("shell" in request.command) {
    // A rule may name a whole pipeline (`curl * | sh`), so deny and ask also see the text as written.
    const whole = collapse(request.command.shell);
    for (const rule of policy.deny) if (matchesRule(rule, whole)) findings.add("forbidden", denied(rule));
    for (const rule of policy.ask) if (matchesRule(rule, whole)) findings.add("needs_approval", asked(rule));
  }

  const places = new Places(root);
  let cwd = places.resolve(plainWord(request.cwd ?? "."), places.root);
  let previous = cwd;
  if (places.isOutside(cwd)) findings.add(policy.outside, `runs outside the workspace (${places.shown(cwd)})`);

  const allowed = new Set<Invocation>();
  for (const invocation of analysis.invocations) {
    if (policy.allow.some((rule) => matchesRule(rule, invocation.text))) allowed.add(invocation);
  }
  for (const invocation of analysis.invocations) {
    for (const rule of policy.deny) if (matchesRule(rule, invocation.text)) findings.add("forbidden", denied(rule));
    for (const rule of policy.ask) if (matchesRule(rule, invocation.text)) findings.add("needs_approval", asked(rule));

    // What an allow rule may waive: the checks below.
    const checks: { verdict: PolicyVerdict; reason: string }[] = [];
    const dangerous = (label: string) =>
      checks.push({ verdict: policy.dangerous, reason: `dangerous pattern: ${label}` });
    const outside = (reason: string) => checks.push({ verdict: policy.outside, reason });

    for (const label of dangerousPatterns(invocation, (word) => places.resolve(word, cwd), places)) dangerous(label);

    const name = commandName(invocation.argv);
    if (name === "cd" || name === "pushd" || name === "popd") {
      const target = operands(invocation.words.slice(1))[0];
      const next =
        name === "popd" || target?.value === "-"
          ? previous
          : places.resolve(target ?? { ...plainWord("~"), quoted: false }, cwd);
      previous = cwd;
      cwd = next;
      if (places.isUnknown(cwd)) outside(`runs in a folder known only at run time (${target?.value ?? ""})`);
      else if (places.isOutside(cwd)) outside(`runs outside the workspace (${places.shown(cwd)})`);
    }
    for (const folder of runsIn(invocation)) {
      const place = places.resolve(folder, cwd);
      if (places.isOutside(place)) outside(`runs outside the workspace (${places.shown(place)})`);
    }
    for (const target of writeTargets(invocation)) {
      const place = places.resolve(target, cwd);
      if (places.isDevice(place)) dangerous(`writes to a device (${places.shown(place)})`);
      else if (places.isOutside(place)) outside(`writes outside the workspace (${places.shown(place)})`);
    }

    // The default is for commands no allow rule covers and no check already judged as strictly.
    const judged = name !== "" && !["cd", "pushd", "popd"].includes(name) && !allowed.has(invocation);
    if (judged && checks.every((check) => rank(check.verdict) < rank(policy.fallback))) {
      checks.push({ verdict: policy.fallback, reason: `not covered by an allow rule (${invocation.text})` });
    }
    for (const check of checks) {
      if (check.verdict === "needs_approval" && allowed.has(invocation)) continue;
      findings.add(check.verdict, check.reason);
    }
  }

  for (const { label, involved } of downloadsRun(analysis.invocations)) {
    const verdict =
      policy.dangerous === "needs_approval" && involved.every((i) => allowed.has(i)) ? "allowed" : policy.dangerous;
    findings.add(verdict, `dangerous pattern: ${label}`);
  }
}

const denied = (rule: string) => `matches the deny rule \`${rule}\``;
const asked = (rule: string) => `matches the ask rule \`${rule}\``;
const collapse = (text: string) => text.trim().replace(/\s+/g, " ");

/**
 * A command rule against a command's text. `Bash(…)` around a rule and a trailing `:*` (Claude Code's spellings)
 * are accepted. Without `*`: the command or a longer one on a word boundary. With `*`: a glob over the whole text.
 */
export function matchesRule(rule: string, text: string): boolean {
  let pattern = collapse(rule);
  const bash = /^Bash\((.*)\)$/.exec(pattern);
  if (bash) pattern = collapse(bash[1]!);
  if (pattern.endsWith(":*")) pattern = `${pattern.slice(0, -2)} *`;
  const command = collapse(text);
  if (!pattern.includes("*")) return command === pattern || command.startsWith(`${pattern} `);
  const glob = (part: string) => part.split("*").map(escapeRegExp).join(".*");
  const source = pattern.endsWith(" *") ? `${glob(pattern.slice(0, -2))}(?: .*)?` : glob(pattern);
  return new RegExp(`^${source}$`, "s").test(command);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function plainWord(value: string): Word {
  return { value, expands: false, leadingExpansion: false, quoted: true };
}

/** Arguments that are not options (everything after `--`). */
function operands(words: Word[]): Word[] {
  const out: Word[] = [];
  let optionsEnded = false;
  for (const word of words) {
    if (!optionsEnded && word.value === "--") optionsEnded = true;
    else if (optionsEnded || !word.value.startsWith("-") || word.value === "-") out.push(word);
  }
  return out;
}

const hasShortFlag = (words: Word[], letter: string) =>
  words.some((w) => /^-[a-zA-Z]+$/.test(w.value) && w.value.includes(letter));

// Places: where a path points, given the facility root and the current folder.

type Place = { abs: string; written: string } | { unknown: string };

/** Stands for the facility when the Nexus places it (kinds repo and empty): no real path can equal it. */
const SOMEWHERE = "/\u0000facility";
const HOME = "/\u0000home";
const HARMLESS_WRITES = [
  "/dev/null",
  "/dev/stdout",
  "/dev/stderr",
  "/dev/tty",
  "/dev/zero",
  "/dev/random",
  "/dev/urandom",
];
const SYSTEM_DIRS = new Set(
  "/ /bin /boot /dev /etc /home /lib /lib32 /lib64 /libx32 /media /mnt /opt /proc /root /run /sbin /srv /sys /usr /var /Applications /Library /System /Users /Volumes /private".split(
    " ",
  ),
);

class Places {
  readonly root: Place;
  private readonly rootPath: string;

  constructor(root: string | null) {
    this.rootPath = root ? path.posix.normalize(`${root}/`).replace(/(.)\/$/, "$1") : SOMEWHERE;
    this.root = { abs: this.rootPath, written: this.rootPath };
  }

  resolve(word: Word, cwd: Place): Place {
    const value = word.value;
    const at = (base: string, rest: string): Place => {
      const abs = path.posix.join(base, rest);
      return { abs: abs.length > 1 ? abs.replace(/\/+$/, "") : abs, written: value };
    };
    const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(.*)$/.exec(value);
    if (variable && word.leadingExpansion) {
      const [, name, rest] = variable;
      if (name === "HOME") return at(HOME, rest!);
      if (name === "TMPDIR") return at("/tmp", rest!);
      if (name === "PWD" && "abs" in cwd) return at(cwd.abs, rest!);
      return { unknown: value };
    }
    if (word.leadingExpansion) return { unknown: value };
    if (value === "~" || (value.startsWith("~") && !word.quoted)) return at(HOME, value.replace(/^~[^/]*/, ""));
    if (value.startsWith("/")) return at("/", value);
    if (!("abs" in cwd)) return { unknown: value };
    return at(cwd.abs, value);
  }

  isUnknown(place: Place): boolean {
    return !("abs" in place);
  }

  isOutside(place: Place): boolean {
    if (!("abs" in place)) return false;
    const { abs } = place;
    if (abs === this.rootPath || abs.startsWith(this.rootPath === "/" ? "/" : `${this.rootPath}/`)) return false;
    return !isHarmlessWrite(abs);
  }

  isDevice(place: Place): boolean {
    return "abs" in place && place.abs.startsWith("/dev/") && !isHarmlessWrite(place.abs);
  }

  /** A whole system folder, home, or everything in one: what `rm -rf` or `chmod -R` must not be aimed at. */
  isCritical(place: Place): boolean {
    if (!("abs" in place)) return false;
    const abs = place.abs.replace(/\/\*$/, "") || "/";
    return SYSTEM_DIRS.has(abs) || abs === HOME || abs === "/*";
  }

  /** How a person reads the place: the real path when known, else what the command wrote. */
  shown(place: Place): string {
    if (!("abs" in place)) return place.unknown;
    if (place.abs.includes("\u0000")) return place.written;
    if (this.rootPath === SOMEWHERE && !place.written.startsWith("/")) return place.written;
    return place.abs;
  }
}

function isHarmlessWrite(abs: string): boolean {
  return (
    HARMLESS_WRITES.includes(abs) ||
    /^\/dev\/fd\/\d+$/.test(abs) ||
    /^\/proc\/self\/fd\/\d+$/.test(abs) ||
    abs === "/tmp" ||
    abs.startsWith("/tmp/") ||
    abs.startsWith("/var/tmp/")
  );
}

/** Folders a command runs in besides the current one (`git -C dir`, `make -C dir`, `tar -C dir`). */
function runsIn(invocation: Invocation): Word[] {
  const name = commandName(invocation.argv);
  if (!["git", "make", "tar"].includes(name)) return [];
  const args = invocation.words.slice(1);
  const out: Word[] = [];
  args.forEach((word, i) => {
    if (word.value === "-C" && args[i + 1]) out.push(args[i + 1]!);
    const long = /^--directory=(.+)$/.exec(word.value);
    if (long && name !== "git") out.push({ ...word, value: long[1]! });
  });
  return out;
}

const WRITE_REDIRECTS = new Set([">", ">>", ">|", "&>", "&>>", "<>", ">&"]);

/** The paths a command writes, deletes or changes: redirects and the operands of the usual file commands. */
function writeTargets(invocation: Invocation): Word[] {
  const targets: Word[] = [];
  for (const redirect of invocation.redirects) {
    if (!WRITE_REDIRECTS.has(redirect.op) || !redirect.target) continue;
    if (redirect.op === ">&" && /^(\d+|-)$/.test(redirect.target.value)) continue;
    targets.push(redirect.target);
  }
  const name = commandName(invocation.argv);
  const args = invocation.words.slice(1);
  const files = operands(args);
  const optionValues = (...names: string[]) =>
    args.flatMap((word, i) => {
      if (names.includes(word.value) && args[i + 1]) return [args[i + 1]!];
      const long = names.find((n) => n.startsWith("--") && word.value.startsWith(`${n}=`));
      return long ? [{ ...word, value: word.value.slice(long.length + 1) }] : [];
    });
  switch (name) {
    case "rm":
    case "rmdir":
    case "unlink":
    case "shred":
    case "touch":
    case "mkdir":
    case "truncate":
    case "tee":
    case "mv":
      targets.push(...files);
      break;
    case "cp":
    case "ln":
    case "install":
    case "rsync":
      targets.push(...optionValues("-t", "--target-directory"), ...files.slice(-1));
      break;
    case "chmod":
    case "chown":
    case "chgrp":
      targets.push(...(args.some((w) => w.value.startsWith("--reference")) ? files : files.slice(1)));
      break;
    case "sed":
      if (args.some((w) => /^-[a-zA-Z]*i/.test(w.value) || w.value.startsWith("--in-place"))) {
        const scripted = args.some((w) => w.value === "-e" || w.value === "-f");
        targets.push(...(scripted ? files : files.slice(1)));
      }
      break;
    case "dd":
      for (const word of args) if (word.value.startsWith("of=")) targets.push({ ...word, value: word.value.slice(3) });
      break;
    case "curl":
      targets.push(...optionValues("-o", "--output"));
      break;
    case "wget":
      targets.push(...optionValues("-O", "--output-document", "-P", "--directory-prefix"));
      break;
  }
  return targets;
}

// Dangerous patterns

const DISK_TOOLS = new Set(["mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "gdisk", "sgdisk"]);
const POWER = new Set(["shutdown", "reboot", "halt", "poweroff"]);

/** The dangerous patterns one command matches, as short labels ("rm -rf /", "sudo", "mkfs.ext4"…). */
function dangerousPatterns(invocation: Invocation, resolve: (word: Word) => Place, places: Places): string[] {
  const labels: string[] = [];
  const [first, ...args] = invocation.words;
  if (!first) return labels;
  const name = commandName(invocation.argv);
  const shown = (word: Word) => places.shown(resolve(word));
  const recursive = hasShortFlag(args, "r") || hasShortFlag(args, "R") || args.some((w) => w.value === "--recursive");

  if (first.leadingExpansion) labels.push(`a command named only at run time (${first.value})`);
  if (PRIVILEGE_WRAPPERS.has(name)) labels.push(name);
  if (name === "rm") {
    if (args.some((w) => w.value === "--no-preserve-root")) labels.push("rm --no-preserve-root");
    for (const word of operands(args)) {
      if (!recursive) continue;
      if (places.isCritical(resolve(word))) labels.push(`rm -rf ${shown(word)}`);
      const empty = /^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)\/\*?$/.exec(word.value);
      if (empty && word.leadingExpansion && places.isUnknown(resolve(word))) {
        labels.push(`rm -rf ${word.value} (deletes / when ${empty[1]} is empty)`);
      }
    }
  }
  if (/^mkfs(\..+)?$/.test(name) || DISK_TOOLS.has(name)) labels.push(name);
  if (name === "dd") {
    for (const word of args) {
      if (word.value.startsWith("of=") && places.isDevice(resolve({ ...word, value: word.value.slice(3) }))) {
        labels.push(`dd to a device (${word.value.slice(3)})`);
      }
    }
  }
  if (name === "chmod" || name === "chown" || name === "chgrp") {
    const [what, ...files] = operands(args);
    for (const word of files) {
      const place = resolve(word);
      if (places.isCritical(place) && (recursive || shown(word) === "/")) {
        labels.push(`${name}${recursive ? " -R" : ""} ${what?.value ?? ""} ${shown(word)}`);
      }
    }
  }
  if (name === "git" && isForcePush(args)) labels.push("git push --force");
  if (POWER.has(name)) labels.push(name);
  if (name === "systemctl" && args.some((w) => ["poweroff", "reboot", "halt", "kexec"].includes(w.value))) {
    labels.push(`systemctl ${args.find((w) => !w.value.startsWith("-"))?.value ?? ""}`.trim());
  }
  if ((name === "init" || name === "telinit") && ["0", "6"].includes(args[0]?.value ?? "")) {
    labels.push(`${name} ${args[0]!.value}`);
  }
  if (name === "kill" && killsEverything(args)) labels.push("kill -1 (every process)");
  return labels;
}

const GIT_VALUED = ["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"];

function isForcePush(args: Word[]): boolean {
  let i = 0;
  while (i < args.length && args[i]!.value.startsWith("-")) i += GIT_VALUED.includes(args[i]!.value) ? 2 : 1;
  if (args[i]?.value !== "push") return false;
  const rest = args.slice(i + 1);
  return rest.some(
    (w) =>
      w.value === "--force" ||
      (/^-[a-zA-Z]+$/.test(w.value) && w.value.includes("f")) ||
      (!w.value.startsWith("-") && w.value.startsWith("+")),
  );
}

function killsEverything(args: Word[]): boolean {
  let i = 0;
  if (args[0]?.value === "-s" || args[0]?.value === "-n") i = 2;
  else if (args[0] && /^-([0-9]+|[A-Z]+[A-Z0-9+-]*)$/.test(args[0].value)) i = 1;
  if (args[i]?.value === "--") i++;
  return args.slice(i).some((w) => w.value === "-1");
}

const DOWNLOADERS = new Set(["curl", "wget", "fetch", "http", "https", "xh", "aria2c"]);
const SHELL_NAMES = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish"]);
/** Options after which an interpreter runs inline code or a module rather than what it reads on stdin. */
const INLINE_FLAGS: Record<string, string> = { shell: "c", python: "cm", node: "ep", perl: "eE", ruby: "e", php: "r" };

function interpreterFamily(name: string): string | undefined {
  if (SHELL_NAMES.has(name)) return "shell";
  if (/^python[0-9.]*$/.test(name)) return "python";
  if (name === "node" || name === "deno" || name === "bun") return "node";
  if (name === "perl" || name === "ruby" || name === "php") return name;
  return undefined;
}

/** An interpreter that runs the program it reads on stdin (no file, no inline code). */
function readsProgramFromStdin(invocation: Invocation): boolean {
  const family = interpreterFamily(commandName(invocation.argv));
  if (!family) return false;
  const args = invocation.words.slice(1);
  if (args.some((w) => /^-[a-zA-Z]+$/.test(w.value) && [...INLINE_FLAGS[family]!].some((f) => w.value.includes(f)))) {
    return false;
  }
  const files = operands(args);
  return files.length === 0 || files[0]!.value === "-" || (family === "shell" && hasShortFlag(args, "s"));
}

/** `curl … | sh`, `bash <(curl …)`, `sh -c "$(wget -O- …)"`: something downloaded, then run. */
function downloadsRun(invocations: Invocation[]): { label: string; involved: Invocation[] }[] {
  const found: { label: string; involved: Invocation[] }[] = [];
  const byPipeline = new Map<number, Invocation[]>();
  for (const invocation of invocations) {
    byPipeline.set(invocation.pipeline, [...(byPipeline.get(invocation.pipeline) ?? []), invocation]);
  }
  for (const members of byPipeline.values()) {
    for (const download of members.filter((m) => DOWNLOADERS.has(commandName(m.argv)))) {
      for (const runner of members) {
        if (runner.position <= download.position || !readsProgramFromStdin(runner)) continue;
        found.push({
          label: `${commandName(download.argv)} … | ${commandName(runner.argv)}`,
          involved: [download, runner],
        });
      }
    }
  }
  for (const runner of invocations) {
    const name = commandName(runner.argv);
    if (!interpreterFamily(name) && !["eval", "source", "."].includes(name)) continue;
    const download = everySubstitution(runner).find((s) => DOWNLOADERS.has(commandName(s.argv)));
    if (download) found.push({ label: `${commandName(download.argv)} … | ${name}`, involved: [download, runner] });
  }
  return found;
}

function everySubstitution(invocation: Invocation): Invocation[] {
  return invocation.substitutions.flatMap((s) => [s, ...everySubstitution(s)]);
}

/** A function that pipes itself into itself in the background: `:(){ :|:& };:`. */
function isForkBomb(source: string): boolean {
  return /([A-Za-z_:][\w:.-]*)\s*\(\s*\)\s*\{[^}]*?\1\s*\|&?\s*\1\s*&/.test(source);
}

// Network and driver

const networkRank = (mode: NetworkMode) => networkModes.indexOf(mode);

function hostAllowed(host: string, pattern: string): boolean {
  const [hostName, hostPort] = host.toLowerCase().split(":");
  const [patternName, patternPort] = pattern.toLowerCase().split(":");
  if (patternPort !== undefined && patternPort !== hostPort) return false;
  if (patternName!.startsWith("*.")) return hostName!.endsWith(patternName!.slice(1));
  return hostName === patternName;
}

/** The network the directive asked for; more than policy gives waits for a person. */
function judgeNetwork(
  request: DirectiveRequest,
  policy: MergedPolicy,
  findings: Findings,
): { mode: NetworkMode; hosts: string[]; limitedByPolicy: boolean } {
  const mode = request.capabilities?.network ?? "none";
  const hosts = mode === "allowlist" ? (request.capabilities?.network_allowlist ?? []) : [];
  const allows = policy.network === "none" ? "none" : policy.network === "allowlist" ? "an allowlist" : "open";
  const outsideAllowlist = (host: string) => !policy.allowlists.every((list) => list.some((p) => hostAllowed(host, p)));
  if (networkRank(mode) > networkRank(policy.network)) {
    const what = mode === "open" ? "network open" : `network to ${hosts.join(", ") || "an allowlist"}`;
    findings.add("needs_approval", `${what} (the policy allows ${allows})`);
    return { mode, hosts, limitedByPolicy: false };
  }
  if (policy.network === "allowlist" && mode === "allowlist") {
    const refused = policy.allowlists.length === 0 ? hosts : hosts.filter(outsideAllowlist);
    if (refused.length) findings.add("needs_approval", `network to hosts not on the allowlist: ${refused.join(", ")}`);
  }
  return { mode, hosts, limitedByPolicy: policy.network !== "open" };
}

/** bwrap when policy wants confinement (or a network limit enforced) and the territory has it; else host. */
function chooseDriver(
  request: DirectiveRequest,
  context: PolicyContext,
  policy: MergedPolicy,
  networkLimited: boolean,
  findings: Findings,
): DriverName {
  const wantsSandbox = policy.sandbox !== "off" || networkLimited || request.driver === "bwrap";
  if (!wantsSandbox) return "host";
  if (context.territory.drivers.includes("bwrap")) return "bwrap";
  if (policy.sandbox === "required") {
    findings.add("forbidden", "the policy requires a sandbox and this territory has no bwrap");
  } else if (request.driver === "bwrap") {
    findings.add("forbidden", "asks for the bwrap driver, which this territory does not have");
  } else if (networkLimited) {
    findings.add(
      "needs_approval",
      `network limited to ${policy.network} by policy, but this territory has no bwrap to enforce it`,
    );
  }
  return "host";
}

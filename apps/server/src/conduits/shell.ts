import path from "node:path";
import type { DirectiveCommand } from "@cybros/protocol";

/**
 * Reads a directive's command the way a POSIX shell would split it, far enough for policy (policy.ts) to judge
 * each command it runs: quotes removed, `; && || | &` and newlines split, here-documents skipped as data, and
 * what runs inside `sudo`, `bash -c`, `eval`, `find -exec`, `$(…)`, backticks and `<(…)` read too. It never
 * expands variables or globs: a word keeps `$HOME` as written and says that it expands.
 */

export interface Word {
  /** The text with quotes removed; expansions (`$x`, `$(…)`, backticks) kept as written. */
  value: string;
  /** An unquoted or double-quoted expansion occurs in it. */
  expands: boolean;
  /** It starts with an expansion, so where it points is known only at run time. */
  leadingExpansion: boolean;
  /** Some of it was quoted or escaped (so it is not a reserved word, and `~` in it is literal). */
  quoted: boolean;
}

export interface Redirect {
  op: string;
  target: Word | undefined;
}

/** One command as the shell runs it, after the wrappers that only change how it runs (`timeout`, `env`, `nice`…). */
export interface Invocation {
  argv: string[];
  words: Word[];
  /** `argv` joined by single spaces: what command rules match. */
  text: string;
  redirects: Redirect[];
  /** Reached inside another command (`sudo`, `bash -c`, `eval`, `find -exec`, a substitution). */
  nested: boolean;
  /** Commands in one pipeline share this id; `position` is the place in it. */
  pipeline: number;
  position: number;
  /** What runs in this command's `$(…)`, backticks and `<(…)`. */
  substitutions: Invocation[];
}

export interface CommandAnalysis {
  /** Every command, in the order the shell meets them (outer before the commands inside it). */
  invocations: Invocation[];
  /** Each shell text read, the command's own and those of `bash -c` and substitutions. */
  sources: string[];
  /** Set when some text could not be read (an unterminated quote, nesting too deep). */
  error?: string;
}

const MAX_DEPTH = 8;
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"]);
const NOT_A_COMMAND = new Set(["for", "select", "case", "esac", "function", "in"]);
const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox"]);
export const PRIVILEGE_WRAPPERS = new Set(["sudo", "doas", "pkexec", "run0", "su"]);

/** Wrappers that run their arguments as a command, with the options that take a value. */
const WRAPPERS = new Map<string, { valued: string[]; positionals: number }>([
  ["timeout", { valued: ["-s", "--signal", "-k", "--kill-after"], positionals: 1 }],
  ["nice", { valued: ["-n", "--adjustment"], positionals: 0 }],
  ["ionice", { valued: ["-c", "--class", "-n", "--classdata", "-p", "-P", "-u"], positionals: 0 }],
  ["nohup", { valued: [], positionals: 0 }],
  ["stdbuf", { valued: ["-i", "-o", "-e"], positionals: 0 }],
  ["setsid", { valued: [], positionals: 0 }],
  ["command", { valued: [], positionals: 0 }],
  ["builtin", { valued: [], positionals: 0 }],
  ["exec", { valued: ["-a"], positionals: 0 }],
  ["time", { valued: ["-f", "--format", "-o", "--output"], positionals: 0 }],
  ["unbuffer", { valued: [], positionals: 0 }],
  ["env", { valued: ["-u", "--unset", "-C", "--chdir"], positionals: 0 }],
  ["xargs", { valued: ["-I", "-i", "-n", "-P", "-L", "-l", "-s", "-d", "-E", "-e", "-a"], positionals: 0 }],
]);
const SUDO_VALUED = [
  "-u",
  "--user",
  "-g",
  "--group",
  "-h",
  "--host",
  "-p",
  "--prompt",
  "-C",
  "-D",
  "--chdir",
  "-r",
  "-t",
  "-U",
  "-T",
];

/** The command's name as the shell looks it up: `/usr/bin/rm` and `rm` are both `rm`. */
export function commandName(argv: string[]): string {
  return argv[0] === undefined ? "" : path.posix.basename(argv[0]);
}

export function analyzeCommand(command: DirectiveCommand): CommandAnalysis {
  const analysis: CommandAnalysis = { invocations: [], sources: [] };
  // A coding operation runs no program: the Nexus confines its paths to the facility itself.
  if ("operation" in command) return analysis;
  const reader = new Reader(analysis);
  if ("argv" in command) {
    const words = command.argv.map((value) => ({ value, expands: false, leadingExpansion: false, quoted: true }));
    reader.command(
      { words, redirects: [], substitutions: [] },
      { pipeline: reader.nextPipeline(), position: 0 },
      false,
      0,
    );
  } else {
    reader.shell(command.shell, false, 0);
  }
  return analysis;
}

interface ParsedCommand {
  words: Word[];
  redirects: Redirect[];
  /** Raw text of each `$(…)`, backticks, `<(…)` and here-document substitution in it. */
  substitutions: string[];
}

class Reader {
  private pipelines = 0;
  constructor(private readonly analysis: CommandAnalysis) {}

  nextPipeline(): number {
    return this.pipelines++;
  }

  /** Reads shell text; returns its commands (already added to the analysis). */
  shell(source: string, nested: boolean, depth: number): Invocation[] {
    if (depth > MAX_DEPTH) {
      this.analysis.error ??= "commands nested too deeply to read";
      return [];
    }
    this.analysis.sources.push(source);
    const parsed = parseShell(source);
    if (parsed.error) this.analysis.error ??= parsed.error;
    const out: Invocation[] = [];
    for (const pipeline of parsed.pipelines) {
      const id = this.nextPipeline();
      pipeline.forEach((command, position) => {
        out.push(...this.command(command, { pipeline: id, position }, nested, depth));
      });
    }
    return out;
  }

  /** Adds one parsed command and everything it runs; returns the top-level invocation(s) added for it. */
  command(
    parsed: ParsedCommand,
    place: { pipeline: number; position: number },
    nested: boolean,
    depth: number,
  ): Invocation[] {
    let words = parsed.words;
    while (words[0] && (isAssignment(words[0]) || (!words[0].quoted && RESERVED.has(words[0].value)))) {
      words = words.slice(1);
    }
    if (words[0] && !words[0].quoted && NOT_A_COMMAND.has(words[0].value)) words = [];
    for (let wrapper = WRAPPERS.get(commandName(words.map((w) => w.value))); wrapper; ) {
      words = unwrap(words, wrapper);
      wrapper = WRAPPERS.get(commandName(words.map((w) => w.value)));
    }
    if (words.length === 0 && parsed.redirects.length === 0 && parsed.substitutions.length === 0) return [];
    const argv = words.map((w) => w.value);
    const invocation: Invocation = {
      argv,
      words,
      text: argv.join(" "),
      redirects: parsed.redirects,
      nested,
      pipeline: place.pipeline,
      position: place.position,
      substitutions: [],
    };
    this.analysis.invocations.push(invocation);
    for (const source of parsed.substitutions) invocation.substitutions.push(...this.shell(source, true, depth + 1));
    this.inner(invocation, place, depth);
    return [invocation];
  }

  /** What a command runs inside itself: sudo's command, `bash -c` text, `eval` text, `find -exec` commands. */
  private inner(invocation: Invocation, place: { pipeline: number; position: number }, depth: number): void {
    const name = commandName(invocation.argv);
    const args = invocation.words.slice(1);
    const asCommand = (words: Word[]) => {
      if (words.length) this.command({ words, redirects: [], substitutions: [] }, place, true, depth + 1);
    };
    if (name === "su") {
      const script = optionValue(args, ["-c", "--command"]);
      if (script !== undefined) this.shell(script, true, depth + 1);
      return;
    }
    if (PRIVILEGE_WRAPPERS.has(name)) {
      asCommand(afterOptions(args, SUDO_VALUED, 0, true));
      return;
    }
    if (SHELLS.has(name)) {
      const shellArgs = name === "busybox" ? args.slice(1) : args;
      if (name === "busybox" && !SHELLS.has(args[0]?.value ?? "")) {
        asCommand(args);
        return;
      }
      const script = shellScript(shellArgs);
      if (script !== undefined) this.shell(script, true, depth + 1);
      return;
    }
    if (name === "eval") {
      this.shell(args.map((w) => w.value).join(" "), true, depth + 1);
      return;
    }
    if (name === "find") {
      for (let i = 0; i < args.length; i++) {
        if (!["-exec", "-execdir", "-ok", "-okdir"].includes(args[i]!.value)) continue;
        const end = args.findIndex((w, j) => j > i && (w.value === ";" || w.value === "+"));
        asCommand(args.slice(i + 1, end === -1 ? undefined : end));
        if (end === -1) break;
        i = end;
      }
    }
  }
}

/** The command a wrapper runs. `env -S "…"` splits its text into words first. */
function unwrap(words: Word[], wrapper: { valued: string[]; positionals: number }): Word[] {
  const args = words.slice(1);
  if (commandName([words[0]!.value]) === "env") {
    const split = args.findIndex(
      (w) => w.value === "-S" || w.value.startsWith("--split-string") || /^-S./.test(w.value),
    );
    if (split !== -1) {
      const option = args[split]!.value;
      const text = option === "-S" ? (args[split + 1]?.value ?? "") : option.replace(/^(-S|--split-string=?)/, "");
      const rest = args.slice(split + (option === "-S" ? 2 : 1));
      const [first] = parseShell(text).pipelines[0] ?? [];
      return [...(first?.words ?? []), ...rest];
    }
    return afterOptions(args, wrapper.valued, wrapper.positionals, true);
  }
  return afterOptions(args, wrapper.valued, wrapper.positionals);
}

function isAssignment(word: Word): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(word.value);
}

/** The words after a wrapper's options (and `positionals` leading operands such as timeout's duration). */
function afterOptions(words: Word[], valued: string[], positionals: number, assignments = false): Word[] {
  let i = 0;
  while (i < words.length) {
    const value = words[i]!.value;
    if (value === "--") {
      i++;
      break;
    }
    if (assignments && isAssignment(words[i]!)) {
      i++;
      continue;
    }
    if (!value.startsWith("-") || value === "-") break;
    i += valued.includes(value) ? 2 : 1;
  }
  return words.slice(Math.min(i + positionals, words.length));
}

/** The value of an option given as `-c value`, `--command value` or `--command=value`. */
function optionValue(words: Word[], names: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const value = words[i]!.value;
    if (names.includes(value)) return words[i + 1]?.value;
    const long = names.find((n) => n.startsWith("--") && value.startsWith(`${n}=`));
    if (long) return value.slice(long.length + 1);
  }
  return undefined;
}

/** The text a shell runs from `-c` (also in a group such as `-lc`, `-ec`), or undefined when it runs a file. */
function shellScript(words: Word[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const value = words[i]!.value;
    if (value === "--") return undefined;
    if (value.startsWith("--")) continue;
    if (!/^[-+]./.test(value)) return undefined;
    if (/^[-+][oO]$/.test(value)) i++;
    else if (value.startsWith("-") && value.includes("c")) return words[i + 1]?.value;
  }
  return undefined;
}

// The reader proper: shell text → pipelines of commands.

type Token =
  | { type: "word"; word: Word; substitutions: string[] }
  | { type: "op"; op: string }
  | { type: "redirect"; op: string; target: Word | undefined; substitutions: string[] };

const CONTROL_OPS = ["&&", "||", ";;", "|&", ";", "|", "&", "(", ")"];
const REDIRECT_OPS = ["<<<", "<<-", "<<", "<>", "<&", ">>", ">|", ">&", "&>>", "&>", "<", ">"];

export function parseShell(source: string): { pipelines: ParsedCommand[][]; error?: string } {
  const { tokens, error } = new Tokenizer(source).run();
  const pipelines: ParsedCommand[][] = [];
  let pipeline: ParsedCommand[] = [];
  let command: ParsedCommand = { words: [], redirects: [], substitutions: [] };
  const endCommand = () => {
    if (command.words.length || command.redirects.length || command.substitutions.length) pipeline.push(command);
    command = { words: [], redirects: [], substitutions: [] };
  };
  const endPipeline = () => {
    endCommand();
    if (pipeline.length) pipelines.push(pipeline);
    pipeline = [];
  };
  for (const token of tokens) {
    if (token.type === "word") {
      command.words.push(token.word);
      command.substitutions.push(...token.substitutions);
    } else if (token.type === "redirect") {
      command.redirects.push({ op: token.op, target: token.target });
      command.substitutions.push(...token.substitutions);
    } else if (token.op === "|" || token.op === "|&") {
      endCommand();
    } else {
      endPipeline();
    }
  }
  endPipeline();
  return { pipelines, error };
}

interface WordRead {
  word: Word;
  substitutions: string[];
}

class Tokenizer {
  private pos = 0;
  private readonly tokens: Token[] = [];
  private error: string | undefined;
  private heredocs: { delimiter: string; stripTabs: boolean; expands: boolean; substitutions: string[] }[] = [];

  constructor(private readonly src: string) {}

  run(): { tokens: Token[]; error?: string } {
    const src = this.src;
    while (this.pos < src.length && !this.error) {
      const c = src[this.pos]!;
      if (c === " " || c === "\t" || c === "\r") {
        this.pos++;
      } else if (c === "\\" && src[this.pos + 1] === "\n") {
        this.pos += 2;
      } else if (c === "#") {
        while (this.pos < src.length && src[this.pos] !== "\n") this.pos++;
      } else if (c === "\n") {
        this.tokens.push({ type: "op", op: "\n" });
        this.pos++;
        this.readHeredocBodies();
      } else if ((c === "<" || c === ">") && src[this.pos + 1] === "(") {
        const inner = this.balanced(this.pos + 1);
        if (inner === undefined) break;
        const value = `${c}(${inner.text})`;
        this.tokens.push({
          type: "word",
          word: { value, expands: true, leadingExpansion: true, quoted: false },
          substitutions: [inner.text],
        });
        this.pos = inner.end;
      } else if (this.redirect()) {
        // read as a redirect
      } else {
        const op = CONTROL_OPS.find((o) => src.startsWith(o, this.pos));
        if (op) {
          this.tokens.push({ type: "op", op });
          this.pos += op.length;
        } else {
          const before = this.pos;
          const read = this.word();
          if (read) this.tokens.push({ type: "word", ...read });
          else if (this.pos === before) this.pos++;
        }
      }
    }
    return { tokens: this.tokens, error: this.error };
  }

  /** `[n]>file`, `2>&1`, `&>file`, `<<EOF`…; false when the text here is not a redirect. */
  private redirect(): boolean {
    const src = this.src;
    let at = this.pos;
    while (/[0-9]/.test(src[at] ?? "")) at++;
    const op = REDIRECT_OPS.find((o) => src.startsWith(o, at));
    if (!op || (at > this.pos && op.startsWith("&"))) return false;
    this.pos = at + op.length;
    while (src[this.pos] === " " || src[this.pos] === "\t") this.pos++;
    const read = this.word();
    const target = read?.word;
    const substitutions = read?.substitutions ?? [];
    if ((op === "<<" || op === "<<-") && target) {
      this.heredocs.push({
        delimiter: target.value,
        stripTabs: op === "<<-",
        expands: !target.quoted,
        substitutions,
      });
    }
    this.tokens.push({ type: "redirect", op, target, substitutions });
    return true;
  }

  /** After a newline: the bodies of the here-documents opened on that line are data, not commands. */
  private readHeredocBodies(): void {
    const src = this.src;
    for (const heredoc of this.heredocs) {
      while (this.pos < src.length) {
        const end = src.indexOf("\n", this.pos);
        const line = src.slice(this.pos, end === -1 ? src.length : end);
        this.pos = end === -1 ? src.length : end + 1;
        if ((heredoc.stripTabs ? line.replace(/^\t+/, "") : line) === heredoc.delimiter) break;
        if (heredoc.expands) heredoc.substitutions.push(...substitutionsIn(line));
      }
    }
    this.heredocs = [];
  }

  private word(): WordRead | undefined {
    const src = this.src;
    const word: Word = { value: "", expands: false, leadingExpansion: false, quoted: false };
    const substitutions: string[] = [];
    const start = this.pos;
    const expansion = (text: string, inner?: string) => {
      if (word.value === "") word.leadingExpansion = true;
      word.value += text;
      word.expands = true;
      if (inner !== undefined) substitutions.push(inner);
    };
    while (this.pos < src.length && !this.error) {
      const c = src[this.pos]!;
      if (" \t\r\n;&|()<>".includes(c)) break;
      if (c === "\\") {
        if (src[this.pos + 1] !== "\n") word.value += src[this.pos + 1] ?? "";
        word.quoted = true;
        this.pos += 2;
      } else if (c === "'") {
        const end = src.indexOf("'", this.pos + 1);
        if (end === -1) return this.fail("an unterminated ' quote");
        word.value += src.slice(this.pos + 1, end);
        word.quoted = true;
        this.pos = end + 1;
      } else if (c === '"') {
        word.quoted = true;
        this.pos++;
        while (this.pos < src.length && src[this.pos] !== '"' && !this.error) {
          const d = src[this.pos]!;
          if (d === "\\" && '$`"\\\n'.includes(src[this.pos + 1] ?? "")) {
            if (src[this.pos + 1] !== "\n") word.value += src[this.pos + 1];
            this.pos += 2;
          } else if (d === "$" || d === "`") {
            this.dollarOrBacktick(expansion, word, true);
          } else {
            word.value += d;
            this.pos++;
          }
        }
        if (src[this.pos] !== '"') return this.fail('an unterminated " quote');
        this.pos++;
      } else if (c === "$" || c === "`") {
        this.dollarOrBacktick(expansion, word);
      } else {
        word.value += c;
        this.pos++;
      }
    }
    if (this.error || this.pos === start) return undefined;
    return { word, substitutions };
  }

  /** `$(…)`, `$((…))`, `${…}`, `$'…'`, `$name`, or backticks, at `pos`. */
  private dollarOrBacktick(expansion: (text: string, inner?: string) => void, word: Word, inQuotes = false): void {
    const src = this.src;
    if (src[this.pos] === "`") {
      let end = this.pos + 1;
      while (end < src.length && src[end] !== "`") end += src[end] === "\\" ? 2 : 1;
      if (end >= src.length) return void this.fail("an unterminated ` quote");
      const inner = src.slice(this.pos + 1, end).replace(/\\([`\\$])/g, "$1");
      expansion(`\`${inner}\``, inner);
      this.pos = end + 1;
      return;
    }
    const next = src[this.pos + 1];
    if (next === "(") {
      const arithmetic = src[this.pos + 2] === "(";
      const inner = this.balanced(this.pos + 1);
      if (!inner) return;
      expansion(`$(${inner.text})`, arithmetic ? undefined : inner.text);
      this.pos = inner.end;
    } else if (next === "{") {
      let depth = 0;
      let end = this.pos + 1;
      for (; end < src.length; end++) {
        if (src[end] === "{") depth++;
        else if (src[end] === "}" && --depth === 0) break;
      }
      if (end >= src.length) return void this.fail("an unterminated ${");
      const text = src.slice(this.pos, end + 1);
      expansion(text);
      for (const inner of substitutionsIn(text.slice(2, -1))) expansion("", inner);
      this.pos = end + 1;
    } else if (next === "'" && !inQuotes) {
      // $'…' is a quote whose escapes spell characters: `$'\x72m'` is `rm`.
      let end = this.pos + 2;
      while (end < src.length && src[end] !== "'") end += src[end] === "\\" ? 2 : 1;
      if (end >= src.length) return void this.fail("an unterminated $' quote");
      word.value += ansiC(src.slice(this.pos + 2, end));
      word.quoted = true;
      this.pos = end + 1;
    } else {
      const name = /^([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(src.slice(this.pos + 1));
      if (!name) {
        word.value += "$";
        this.pos++;
        return;
      }
      expansion(`$${name[1]}`);
      this.pos += 1 + name[1]!.length;
    }
  }

  /** The text inside the parentheses opened at `open`, honouring quotes and nesting. */
  private balanced(open: number): { text: string; end: number } | undefined {
    const end = closingParen(this.src, open);
    if (end === -1) return void this.fail("an unterminated $( or <(");
    return { text: this.src.slice(open + 1, end), end: end + 1 };
  }

  private fail(what: string): undefined {
    this.error ??= `could not be read: ${what}`;
    return undefined;
  }
}

/** The index of the `)` closing the `(` at `open`, or -1. */
function closingParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") i++;
    else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end === -1) return -1;
      i = end;
    } else if (c === '"') {
      for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** The commands of `$(…)` and backticks in text that is otherwise data (a here-document, `${x:-$(…)}`). */
function substitutionsIn(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "$" && text[i + 1] === "(" && text[i + 2] !== "(") {
      const end = closingParen(text, i + 1);
      if (end === -1) break;
      found.push(text.slice(i + 2, end));
      i = end;
    } else if (text[i] === "`") {
      const end = text.indexOf("`", i + 1);
      if (end === -1) break;
      found.push(text.slice(i + 1, end));
      i = end;
    }
  }
  return found;
}

/** Bash's $'…' escapes. */
function ansiC(body: string): string {
  const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", e: "\x1b", f: "\f", v: "\v" };
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|.)/g, (_, esc: string) => {
    if (/^[xuU]/.test(esc)) return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
    if (/^[0-7]/.test(esc)) return String.fromCharCode(Number.parseInt(esc, 8));
    return simple[esc] ?? esc;
  });
}

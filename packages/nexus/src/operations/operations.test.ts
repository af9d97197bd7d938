import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type CodingOperation, directiveSpec, GLOB_MAX_FILES, GREP_MAX_MATCHES } from "@cybros/protocol";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { openFacility } from "./confine.js";
import { grep, hasRipgrep } from "./grep.js";
import { performOperation } from "./index.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-operations-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let root: string;
let outside: string;
let count = 0;
beforeEach(() => {
  count++;
  root = path.join(scratch, `facility-${count}`);
  outside = path.join(scratch, `outside-${count}`);
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "secret.txt"), "secret\n");
});

function write(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), content);
}

function gitRepo(): void {
  execFileSync("git", ["init", "-q"], { cwd: root });
}

async function perform(
  operation: CodingOperation,
  options: { cwd?: string; cancel?: AbortSignal; timeout?: number } = {},
) {
  const spec = directiveSpec.parse({
    directive_id: "d1",
    facility: { id: "f1", kind: "path", root },
    command: { operation },
    cwd: options.cwd ?? ".",
    timeout_seconds: options.timeout ?? 30,
  });
  return performOperation(spec, root, options.cancel ?? new AbortController().signal);
}

async function refusal(operation: CodingOperation, cwd?: string): Promise<string> {
  const outcome = await perform(operation, { cwd });
  expect(outcome).toMatchObject({ status: "failed", exitCode: 1, result: { op: operation.op } });
  return outcome.result.error as string;
}

describe("paths stay inside the facility", () => {
  it("refuses .. that climbs out, absolute paths elsewhere and symlinks that lead out, saying which", async () => {
    expect(await refusal({ op: "read_file", path: `../outside-${count}/secret.txt` })).toBe(
      `../outside-${count}/secret.txt leaves the workspace: ".." climbs above its root`,
    );
    expect(await refusal({ op: "read_file", path: path.join(outside, "secret.txt") })).toBe(
      `${path.join(outside, "secret.txt")} is outside the workspace (${root})`,
    );
    fs.symlinkSync(outside, path.join(root, "link"));
    expect(await refusal({ op: "read_file", path: "link/secret.txt" })).toBe(
      `link/secret.txt: the symlink link leads outside the workspace (to ${fs.realpathSync(outside)})`,
    );
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(root, "file-link"));
    expect(await refusal({ op: "edit_file", path: "file-link", old_string: "secret", new_string: "x" })).toMatch(
      /^file-link: the symlink file-link leads outside/,
    );
    expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("secret\n");
  });

  it("refuses writing through a symlinked folder or a broken symlink, and writes nothing outside", async () => {
    fs.symlinkSync(outside, path.join(root, "out"));
    expect(await refusal({ op: "write_file", path: "out/new/file.txt", content: "x" })).toMatch(
      /^out\/new\/file.txt: the symlink out leads outside the workspace/,
    );
    fs.symlinkSync(path.join(outside, "missing.txt"), path.join(root, "dangling"));
    expect(await refusal({ op: "write_file", path: "dangling", content: "x" })).toBe(
      "dangling: dangling is a symlink to nothing",
    );
    expect(fs.readdirSync(outside)).toEqual(["secret.txt"]);
  });

  it("accepts .. that stays inside, absolute paths inside, symlinks within, and relative paths from the cwd", async () => {
    write("src/a.txt", "alpha\n");
    fs.symlinkSync(path.join(root, "src"), path.join(root, "alias"));
    for (const named of ["src/../src/a.txt", path.join(root, "src/a.txt"), "alias/a.txt"]) {
      const outcome = await perform({ op: "read_file", path: named });
      expect(outcome).toMatchObject({ status: "succeeded", exitCode: 0, result: { path: "src/a.txt" } });
    }
    const fromCwd = await perform({ op: "read_file", path: "a.txt" }, { cwd: "src" });
    expect(fromCwd.result).toMatchObject({ path: "src/a.txt", content: "     1\talpha" });
    expect(await refusal({ op: "read_file", path: "../../x" }, "src")).toMatch(/leaves the workspace/);
  });

  it("refuses a cwd that is not a folder of the facility", async () => {
    write("file.txt", "x");
    expect(await refusal({ op: "glob", pattern: "*" }, "file.txt")).toBe(
      "cwd file.txt is not a folder in the workspace",
    );
  });
});

describe("read_file", () => {
  it("numbers lines like cat -n, with offset, limit, total and the truncated flag", async () => {
    write("lines.txt", `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join("\n")}\n`);
    const all = await perform({ op: "read_file", path: "lines.txt" });
    expect(all.result).toMatchObject({ start_line: 1, end_line: 10, total_lines: 10, truncated: false });
    expect((all.result.content as string).split("\n")[9]).toBe("    10\tline 10");
    const part = await perform({ op: "read_file", path: "lines.txt", offset: 3, limit: 2 });
    expect(part.result).toEqual({
      op: "read_file",
      path: "lines.txt",
      content: "     3\tline 3\n     4\tline 4",
      start_line: 3,
      end_line: 4,
      total_lines: 10,
      truncated: true,
    });
    expect(await refusal({ op: "read_file", path: "lines.txt", offset: 11 })).toBe(
      "offset 11 is past the end of lines.txt (10 lines)",
    );
  });

  it("reads CRLF files and empty files, and cuts very long lines", async () => {
    write("crlf.txt", "one\r\ntwo");
    write("empty.txt", "");
    write("long.txt", `${"x".repeat(2_500)}\n`);
    expect((await perform({ op: "read_file", path: "crlf.txt" })).result).toMatchObject({
      content: "     1\tone\n     2\ttwo",
      total_lines: 2,
    });
    expect((await perform({ op: "read_file", path: "empty.txt" })).result).toMatchObject({
      content: "",
      start_line: 1,
      end_line: 0,
      total_lines: 0,
      truncated: false,
    });
    const long = await perform({ op: "read_file", path: "long.txt" });
    expect(long.result).toMatchObject({ truncated: true, total_lines: 1 });
    expect(long.result.content).toBe(`     1\t${"x".repeat(2_000)}… [line cut]`);
  });

  it("refuses binary files, folders and missing files with a reason", async () => {
    write("blob.bin", Buffer.from([0x41, 0x00, 0x42]));
    write("logo.png", "not really a png");
    write("dir/inner.txt", "x");
    expect(await refusal({ op: "read_file", path: "blob.bin" })).toBe(
      "blob.bin is a binary file (it contains NUL bytes); only text files are read",
    );
    expect(await refusal({ op: "read_file", path: "logo.png" })).toBe(
      "logo.png is a binary file (a .png file); only text files are read",
    );
    expect(await refusal({ op: "read_file", path: "dir" })).toBe("dir is a folder; use glob to list its files");
    expect(await refusal({ op: "read_file", path: "nope.txt" })).toBe("nope.txt does not exist");
  });
});

describe("write_file", () => {
  it("creates a file with its folders, then overwrites it, counting bytes", async () => {
    const created = await perform({ op: "write_file", path: "deep/er/new.txt", content: "héllo\n" });
    expect(created).toEqual({
      status: "succeeded",
      exitCode: 0,
      result: { op: "write_file", path: "deep/er/new.txt", bytes_written: 7, action: "created" },
    });
    const again = await perform({ op: "write_file", path: "deep/er/new.txt", content: "bye" });
    expect(again.result).toMatchObject({ bytes_written: 3, action: "overwritten" });
    expect(fs.readFileSync(path.join(root, "deep/er/new.txt"), "utf8")).toBe("bye");
    expect(await refusal({ op: "write_file", path: "deep", content: "x" })).toBe("deep is a folder");
  });
});

describe("edit_file", () => {
  const source = ["function add(a, b) {", "  return a - b;", "}", "", "export { add };", ""].join("\n");

  it("replaces one exact match and reports the line and a unified diff", async () => {
    write("src/add.js", source);
    const edited = await perform({
      op: "edit_file",
      path: "src/add.js",
      old_string: "return a - b;",
      new_string: "// fixed\n  return a + b;",
    });
    expect(edited.result).toEqual({
      op: "edit_file",
      path: "src/add.js",
      replacements: 1,
      lines: [2],
      diff: [
        "--- a/src/add.js",
        "+++ b/src/add.js",
        "@@ -1,5 +1,6 @@",
        " function add(a, b) {",
        "-  return a - b;",
        "+  // fixed",
        "+  return a + b;",
        " }",
        " ",
        " export { add };",
        "",
      ].join("\n"),
      diff_truncated: false,
    });
    expect(fs.readFileSync(path.join(root, "src/add.js"), "utf8")).toBe(
      source.replace("return a - b;", "// fixed\n  return a + b;"),
    );
  });

  it("refuses zero matches and several without replace_all, saying how many and where", async () => {
    write("many.txt", "x = 1\ny = 2\nx = 1\n\n\nx = 1\n");
    expect(await refusal({ op: "edit_file", path: "many.txt", old_string: "z = 3", new_string: "z = 4" })).toBe(
      "old_string was not found in many.txt",
    );
    expect(await refusal({ op: "edit_file", path: "many.txt", old_string: "x = 1", new_string: "x = 2" })).toBe(
      "old_string occurs 3 times in many.txt (at lines 1, 3, 6); include more of the surrounding text to pick one, " +
        "or set replace_all to replace every one",
    );
    expect(await refusal({ op: "edit_file", path: "many.txt", old_string: "y = 2", new_string: "y = 2" })).toBe(
      "old_string and new_string are the same; there is nothing to change",
    );
    expect(fs.readFileSync(path.join(root, "many.txt"), "utf8")).toBe("x = 1\ny = 2\nx = 1\n\n\nx = 1\n");
  });

  it("replaces every match with replace_all, in one diff of merged hunks", async () => {
    write("many.txt", "x = 1\ny = 2\nx = 1\n\n\nx = 1\n");
    const edited = await perform({
      op: "edit_file",
      path: "many.txt",
      old_string: "x = 1",
      new_string: "x = 10\nw = 0",
      replace_all: true,
    });
    expect(edited.result).toMatchObject({ replacements: 3, lines: [1, 4, 8] });
    expect(fs.readFileSync(path.join(root, "many.txt"), "utf8")).toBe(
      "x = 10\nw = 0\ny = 2\nx = 10\nw = 0\n\n\nx = 10\nw = 0\n",
    );
    expect(edited.result.diff).toBe(
      [
        "--- a/many.txt",
        "+++ b/many.txt",
        "@@ -1,6 +1,9 @@",
        "-x = 1",
        "+x = 10",
        "+w = 0",
        " y = 2",
        "-x = 1",
        "+x = 10",
        "+w = 0",
        " ",
        " ",
        "-x = 1",
        "+x = 10",
        "+w = 0",
        "",
      ].join("\n"),
    );
  });

  it("matches an old_string written with \\n in a CRLF file", async () => {
    write("crlf.txt", "a\r\nb\r\nc\r\n");
    const edited = await perform({ op: "edit_file", path: "crlf.txt", old_string: "a\nb", new_string: "a\nB" });
    expect(edited).toMatchObject({ status: "succeeded", result: { replacements: 1 } });
    expect(fs.readFileSync(path.join(root, "crlf.txt"), "utf8")).toBe("a\r\nB\r\nc\r\n");
  });

  it("refuses binary and missing files", async () => {
    write("blob.bin", Buffer.from([0x41, 0x00, 0x42]));
    expect(await refusal({ op: "edit_file", path: "blob.bin", old_string: "A", new_string: "B" })).toMatch(
      /binary file/,
    );
    expect(await refusal({ op: "edit_file", path: "gone.txt", old_string: "A", new_string: "B" })).toBe(
      "gone.txt does not exist",
    );
  });
});

describe("glob", () => {
  it("walks a plain folder, skipping .git and node_modules; no `/` matches names at any depth", async () => {
    for (const file of ["a.ts", "src/b.ts", "src/deep/c.ts", "src/d.js", "node_modules/x/e.ts", ".git/f.ts"]) {
      write(file, "x");
    }
    const names = await perform({ op: "glob", pattern: "*.ts" });
    expect(names.result).toEqual({
      op: "glob",
      pattern: "*.ts",
      path: ".",
      files: ["a.ts", "src/b.ts", "src/deep/c.ts"],
      truncated: false,
    });
    expect((await perform({ op: "glob", pattern: "src/**/*.{ts,js}" })).result.files).toEqual([
      "src/b.ts",
      "src/d.js",
      "src/deep/c.ts",
    ]);
    expect((await perform({ op: "glob", pattern: "*/?.ts" })).result.files).toEqual(["src/b.ts"]);
    const under = await perform({ op: "glob", pattern: "**/*.ts", path: "src/deep" });
    expect(under.result).toMatchObject({ path: "src/deep", files: ["src/deep/c.ts"] });
    expect(await refusal({ op: "glob", pattern: "../*" })).toMatch(/must be relative to the searched folder/);
  });

  it("respects .gitignore in a repository, listing untracked files that are not ignored", async () => {
    gitRepo();
    write(".gitignore", "dist/\n*.log\n");
    for (const file of ["src/a.ts", "dist/a.ts", "debug.log", "notes.md"]) write(file, "x");
    const listed = await perform({ op: "glob", pattern: "**" });
    expect(listed.result.files).toEqual([".gitignore", "notes.md", "src/a.ts"]);
  });

  it("walks a facility a parent repository ignores", async () => {
    gitRepo();
    write(".gitignore", "data/\n");
    write("data/ws/a.ts", "x");
    const nested = await perform({ op: "glob", pattern: "*.ts", path: "data/ws" });
    expect(nested.result.files).toEqual(["data/ws/a.ts"]);
  });

  it("caps the list", async () => {
    for (let i = 0; i <= GLOB_MAX_FILES; i++) write(`many/${String(i).padStart(4, "0")}.txt`, "");
    const capped = await perform({ op: "glob", pattern: "*.txt" });
    expect(capped.result).toMatchObject({ truncated: true });
    expect((capped.result.files as string[]).length).toBe(GLOB_MAX_FILES);
  });
});

const engines = hasRipgrep() ? (["ripgrep", "builtin"] as const) : (["builtin"] as const);
if (!hasRipgrep()) console.info("operations.test.ts: ripgrep is not installed; only the built-in grep is tested");

describe.each(engines)("grep with %s", (engine) => {
  const search = (operation: Omit<Parameters<typeof grep>[0], "op">) =>
    grep({ op: "grep", ...operation }, openFacility(root, "."), new AbortController().signal, engine);

  it("finds file:line:text, case-insensitively on request, filtered by glob, skipping binary files", async () => {
    write("src/a.ts", "const Needle = 1;\nno\nneedle again\n");
    write("src/b.js", "needle in js\n");
    write("blob.bin", Buffer.from("needle\0binary"));
    const found = await search({ pattern: "needle" });
    expect(found).toEqual({
      op: "grep",
      pattern: "needle",
      path: ".",
      matches: [
        { path: "src/a.ts", line: 3, text: "needle again" },
        { path: "src/b.js", line: 1, text: "needle in js" },
      ],
      truncated: false,
      engine,
    });
    const anyCase = await search({ pattern: "ne+dle", ignore_case: true, glob: "*.ts" });
    expect(anyCase.matches).toEqual([
      { path: "src/a.ts", line: 1, text: "const Needle = 1;" },
      { path: "src/a.ts", line: 3, text: "needle again" },
    ]);
    const oneFile = await search({ pattern: "js", path: "src/b.js" });
    expect(oneFile).toMatchObject({ path: "src/b.js", matches: [{ path: "src/b.js", line: 1 }] });
  });

  it("respects .gitignore and does not follow symlinks out", async () => {
    gitRepo();
    write(".gitignore", "ignored/\n");
    write("ignored/a.txt", "secret\n");
    write("kept.txt", "secret\n");
    fs.symlinkSync(outside, path.join(root, "out"));
    const found = await search({ pattern: "secret" });
    expect(found.matches).toEqual([{ path: "kept.txt", line: 1, text: "secret" }]);
  });

  it("caps matches and refuses a bad regular expression", async () => {
    write("many.txt", "hit\n".repeat(GREP_MAX_MATCHES + 5));
    const capped = await search({ pattern: "hit" });
    expect(capped.truncated).toBe(true);
    expect(capped.matches).toHaveLength(GREP_MAX_MATCHES);
    await expect(search({ pattern: "(unclosed" })).rejects.toThrow(
      /^(grep failed: .*regex|the pattern is not a valid)/,
    );
  });
});

describe.runIf(hasRipgrep())("stopping an operation", () => {
  it("times out with 124 and cancels, stopping the search", async () => {
    execFileSync("mkfifo", [path.join(root, "fifo")]);
    const started = Date.now();
    const timedOut = await perform({ op: "grep", pattern: "x", path: "fifo" }, { timeout: 1 });
    expect(timedOut).toEqual({
      status: "timed_out",
      exitCode: 124,
      result: { op: "grep", error: "timed out after 1 s" },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    const cancel = new AbortController();
    cancel.abort();
    const canceled = await perform({ op: "grep", pattern: "x", path: "fifo" }, { cancel: cancel.signal });
    expect(canceled).toMatchObject({ status: "canceled", exitCode: null });
  });
});

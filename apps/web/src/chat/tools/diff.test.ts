import { describe, expect, it } from "vitest";
import { diffOfEdit, diffStats, parseUnifiedDiff } from "./diff";

const gitDiff = `diff --git a/src/sum.ts b/src/sum.ts
index 3b18e51..a5c1f0e 100644
--- a/src/sum.ts
+++ b/src/sum.ts
@@ -1,4 +1,4 @@
 export function sum(a: number, b: number) {
-  return a - b;
+  return a + b;
 }
 
@@ -10,2 +10,3 @@ export function mean(xs: number[]) {
 const total = xs.reduce(sum, 0);
+// an empty list has no mean
 return total / xs.length;
diff --git a/README.md b/README.md
new file mode 100644
--- /dev/null
+++ b/README.md
@@ -0,0 +1,2 @@
+# Sum
+--- a line that looks like a header
\\ No newline at end of file
`;

describe("parseUnifiedDiff", () => {
  it("reads files, hunks and line numbers from git's diff", () => {
    const files = parseUnifiedDiff(gitDiff);
    expect(files.map((f) => f.path)).toEqual(["src/sum.ts", "README.md"]);
    const [sum, readme] = files;
    expect(sum!.hunks.map((h) => h.header)).toEqual([
      "@@ -1,4 +1,4 @@",
      "@@ -10,2 +10,3 @@ export function mean(xs: number[]) {",
    ]);
    expect(sum!.hunks[0]!.lines).toEqual([
      { kind: "context", text: "export function sum(a: number, b: number) {", oldNo: 1, newNo: 1 },
      { kind: "del", text: "  return a - b;", oldNo: 2, newNo: null },
      { kind: "add", text: "  return a + b;", oldNo: null, newNo: 2 },
      { kind: "context", text: "}", oldNo: 3, newNo: 3 },
      { kind: "context", text: "", oldNo: 4, newNo: 4 },
    ]);
    expect(sum!.hunks[1]!.lines.map((l) => [l.kind, l.oldNo, l.newNo])).toEqual([
      ["context", 10, 10],
      ["add", null, 11],
      ["context", 11, 12],
    ]);
    expect([sum!.added, sum!.removed]).toEqual([2, 1]);
    // A new file: its note, and a line starting with "---" inside the hunk stays a line.
    expect(readme!.notes).toEqual(["new file mode 100644"]);
    expect(readme!.hunks[0]!.lines.map((l) => l.kind)).toEqual(["add", "add", "meta"]);
    expect(readme!.hunks[0]!.lines[1]!.text).toBe("--- a line that looks like a header");
    expect(diffStats(files)).toEqual({ added: 4, removed: 1 });
  });

  it("reads a plain diff -u of two files without git's headers", () => {
    const files = parseUnifiedDiff(
      [
        "--- a.txt\t2026-01-01",
        "+++ a.txt\t2026-01-02",
        "@@ -1 +1 @@",
        "-x",
        "+y",
        "--- b.txt",
        "+++ b.txt",
        "@@ -1,0 +1 @@",
        "+z",
      ].join("\n"),
    );
    expect(files.map((f) => [f.path, f.added, f.removed])).toEqual([
      ["a.txt", 1, 1],
      ["b.txt", 1, 0],
    ]);
  });

  it("makes a diff from an edit's old and new text", () => {
    const [file] = parseUnifiedDiff(diffOfEdit("src/a.ts", "const a = 1;\nconst b = 2;", "const a = 3;"));
    expect(file!.path).toBe("src/a.ts");
    expect(file!.hunks[0]!.lines.map((l) => `${l.kind}:${l.text}`)).toEqual([
      "del:const a = 1;",
      "del:const b = 2;",
      "add:const a = 3;",
    ]);
  });

  it("returns nothing for text that is not a diff", () => {
    expect(parseUnifiedDiff("")).toEqual([]);
    expect(parseUnifiedDiff("nothing changed")).toEqual([]);
  });
});

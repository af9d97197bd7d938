import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type ClaimedDirective, type DirectiveSpec, directiveSpec, MAX_ARTIFACT_BYTES } from "@cybros/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { withArtifacts } from "./artifacts.js";
import type { ConduitsClient } from "./client.js";
import { runDirective } from "./drivers.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function scratch(): string {
  const folder = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cybros-nexus-artifacts-")));
  folders.push(folder);
  return folder;
}

/** A directive and a client that records the uploads instead of sending them. */
function setUp(request: Record<string, unknown> = { command: { argv: ["true"] } }) {
  const spec = directiveSpec.parse({
    directive_id: "0190a0a0-0000-7000-8000-00000000000d",
    facility: { id: "f1", kind: "empty", root: null },
    ...request,
  });
  const directive: ClaimedDirective = { directive_id: spec.directive_id, directive_token: "t", spec };
  const uploads: { name: string; contentType: string; text: string }[] = [];
  const client = {
    artifact: async (_: ClaimedDirective, name: string, contentType: string, bytes: Buffer) => {
      uploads.push({ name, contentType, text: bytes.toString() });
      return { artifact_id: name, directive_id: spec.directive_id, name, size_bytes: bytes.length, duplicate: false };
    },
  } as unknown as ConduitsClient;
  const logs: string[] = [];
  const root = path.join(scratch(), "facility");
  const folder = path.join(root, ".cybros/artifacts", spec.directive_id);
  const withFolder = (run: (spec: DirectiveSpec) => Promise<unknown> | unknown) =>
    withArtifacts(
      client,
      directive,
      root,
      (line) => logs.push(line),
      async (given) => {
        await run(given);
        return { status: "succeeded", exitCode: 0 };
      },
    );
  return { spec, directive, client, uploads, logs, root, folder, withFolder };
}

describe("a directive's artifacts folder", () => {
  it("is named to the command, uploaded with content types by extension, then removed", async () => {
    const { directive, client, uploads, root, folder } = setUp({
      command: { shell: 'printf png > "$CYBROS_ARTIFACTS_DIR/shot.png"; printf "{}" > "$CYBROS_ARTIFACTS_DIR/r.json"' },
    });
    const outcome = await withArtifacts(
      client,
      directive,
      root,
      () => {},
      (spec) => runDirective(spec, root, { onOutput: () => {}, cancel: new AbortController().signal }),
    );
    expect(outcome).toEqual({ status: "succeeded", exitCode: 0 });
    expect(uploads).toEqual([
      { name: "r.json", contentType: "application/json", text: "{}" },
      { name: "shot.png", contentType: "image/png", text: "png" },
    ]);
    expect(fs.existsSync(folder)).toBe(false);
    expect(fs.existsSync(path.join(root, ".cybros"))).toBe(false);
  });

  it("starts empty, and keeps the facility's own .cybros files", async () => {
    const { uploads, root, folder, withFolder } = setUp();
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, "stale.txt"), "from an earlier attempt");
    fs.writeFileSync(path.join(root, ".cybros/keep.txt"), "mine");
    await withFolder(() => fs.writeFileSync(path.join(folder, "new.txt"), "new"));
    expect(uploads.map((u) => u.name)).toEqual(["new.txt"]);
    expect(fs.readFileSync(path.join(root, ".cybros/keep.txt"), "utf8")).toBe("mine");
  });

  it("skips what is not a plain regular file within the caps: links, folders, odd names, big files", async () => {
    const { uploads, logs, folder, withFolder } = setUp();
    const outside = path.join(scratch(), "secret.txt");
    fs.writeFileSync(outside, "secret");
    await withFolder(() => {
      fs.symlinkSync(outside, path.join(folder, "link.txt"));
      fs.mkdirSync(path.join(folder, "sub"));
      fs.writeFileSync(path.join(folder, ".hidden"), "x");
      fs.writeFileSync(path.join(folder, "big.bin"), Buffer.alloc(MAX_ARTIFACT_BYTES + 1));
      fs.writeFileSync(path.join(folder, "ok.txt"), "ok");
    });
    expect(uploads.map((u) => u.name)).toEqual(["ok.txt"]);
    expect(logs.join("\n")).toMatch(/"link\.txt" skipped: not a regular file/);
    expect(logs.join("\n")).toMatch(/"big\.bin" skipped: larger than/);
    expect(fs.readFileSync(outside, "utf8")).toBe("secret");
  });

  it("never reads or removes through a symlink a command left in its path", async () => {
    const { uploads, logs, root, folder, withFolder } = setUp();
    const elsewhere = scratch();
    fs.writeFileSync(path.join(elsewhere, "secret.txt"), "secret");
    // Before the run: .cybros points out of the facility, so no folder is made and the command runs without one.
    fs.mkdirSync(root, { recursive: true });
    fs.symlinkSync(elsewhere, path.join(root, ".cybros"));
    let announced: string | undefined = "unset";
    await withFolder((spec) => {
      announced = spec.env.CYBROS_ARTIFACTS_DIR;
    });
    expect(announced).toBeUndefined();
    expect(logs.join("\n")).toContain("no artifacts folder");
    expect(fs.readdirSync(elsewhere)).toEqual(["secret.txt"]);

    // During the run: the folder is swapped for a link out; nothing is uploaded and the target stays.
    fs.unlinkSync(path.join(root, ".cybros"));
    await withFolder(() => {
      fs.rmSync(folder, { recursive: true });
      fs.symlinkSync(elsewhere, folder);
    });
    expect(uploads).toEqual([]);
    expect(fs.readFileSync(path.join(elsewhere, "secret.txt"), "utf8")).toBe("secret");
  });
});

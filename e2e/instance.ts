import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const bundle = path.join(import.meta.dirname, "../apps/server/dist/main.js");

/** A real Cybros process on its own data folder and a free port, as a person would run it. */
export class Instance {
  url = "";
  private child?: ChildProcess;
  readonly logs: string[] = [];

  constructor(
    readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cybros-e2e-")),
    readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<this> {
    const child = spawn(process.execPath, [bundle], {
      env: { ...process.env, CYBROS_DATA_DIR: this.dataDir, PORT: "0", HOST: "127.0.0.1", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr!.on("data", (chunk) => this.logs.push(String(chunk)));
    const lines = readline.createInterface({ input: child.stdout! });
    this.url = await new Promise<string>((resolve, reject) => {
      const fail = (code: number | null) => reject(new Error(`server exited (${code}):\n${this.logs.join("")}`));
      child.once("exit", fail);
      lines.on("line", (line) => {
        this.logs.push(line);
        try {
          const entry = JSON.parse(line);
          if (entry.url && /serving/.test(entry.msg)) {
            child.off("exit", fail);
            resolve(entry.url);
          }
        } catch {
          // not a log line
        }
      });
    });
    return this;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

import fs from "node:fs";
import path from "node:path";
import {
  type ClaimedDirective,
  claimedDirective,
  type DirectiveFinishedRequest,
  directiveFinishedRequest,
} from "@cybros/protocol";
import { z } from "zod";

const entry = z.object({ directive: claimedDirective, report: directiveFinishedRequest });
export interface JournalEntry {
  directive: ClaimedDirective;
  report: DirectiveFinishedRequest;
}

/**
 * Finished reports not yet acknowledged, one file per directive: written before the report is sent, removed
 * once the server answered it, replayed at the next start. The directive token stays valid after the end, so a
 * replay after a restart is accepted (or answered as a duplicate).
 */
export class FinishedJournal {
  private readonly dir: string;

  constructor(nexusDir: string) {
    this.dir = path.join(nexusDir, "journal");
  }

  record(entry: JournalEntry): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(entry.directive);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(entry), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  forget(directive: ClaimedDirective): void {
    fs.rmSync(this.file(directive), { force: true });
  }

  /** Entries left by an earlier run; an unreadable one is dropped. */
  pending(): JournalEntry[] {
    if (!fs.existsSync(this.dir)) return [];
    const entries: JournalEntry[] = [];
    for (const name of fs.readdirSync(this.dir).filter((file) => file.endsWith(".json"))) {
      const file = path.join(this.dir, name);
      const parsed = entry.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (parsed.success) entries.push(parsed.data);
      else fs.rmSync(file, { force: true });
    }
    return entries;
  }

  private file(directive: ClaimedDirective): string {
    return path.join(this.dir, `${directive.directive_id.replace(/[^A-Za-z0-9-]/g, "")}.json`);
  }
}

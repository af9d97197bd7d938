/**
 * An agent program that cannot be loaded. The message names the file (relative to the program folder, never
 * an absolute server path) and the field, e.g. "agent.yml: model.prefer: must be a list of strings", because
 * it is shown to the person who edits those files and may reach a failed run's error.
 */
export class AgentProgramError extends Error {
  readonly file?: string;
  readonly field?: string;
  readonly reason: string;

  constructor(reason: string, where: { file?: string; field?: string } = {}) {
    super([where.file, where.field, reason].filter(Boolean).join(": "));
    this.name = "AgentProgramError";
    this.file = where.file;
    this.field = where.field;
    this.reason = reason;
  }
}

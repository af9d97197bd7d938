// Local stand-ins for packages/protocol/src/agents.ts until it lands (then these re-export from there).
import type { ModelResolution } from "@cybros/protocol";

export type AgentProgramSummary = {
  id: string;
  name: string;
  description: string;
  profileSource: string;
  bundled: boolean;
  createdAt: string;
  updatedAt: string;
};

export type AgentProfile = { id: string; name: string; description: string };

export type AgentProgramFile = { path: string; size: number };

export type AgentProgramDetail = {
  agent: AgentProgramSummary;
  manifest: { model: { prefer: string[] }; tools: { allow: string[] } } & Record<string, unknown>;
  manifestText: string;
  files: AgentProgramFile[];
  tools: Array<{ name: string; description: string }>;
  models: ModelResolution[];
  warnings: string[];
};

export type CreateAgentInput = { profile: string; name: string };

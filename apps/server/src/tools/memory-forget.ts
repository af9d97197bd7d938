import { z } from "zod";
import { NotFoundError } from "../errors.js";
import * as memory from "../memory/index.js";
import { defineTool, ToolError } from "./define.js";

export const memoryForgetTool = defineTool("memory_forget", {
  title: () => "Forgot a memory",
  idempotent: true,
  description: [
    "Delete one memory by its id (shown by memory_search). Use it when the user asks you to forget something,",
    "or when a memory is wrong or outdated (then store the corrected fact). Deletion is permanent.",
  ].join(" "),
  parameters: z.object({
    id: z.string().describe("The id of the memory, as shown by memory_search."),
  }),
  async execute(args, context) {
    try {
      await memory.forget({ database: context.services.database }, memory.agentScope(context), args.id);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new ToolError(`No memory with id ${args.id}: search again with memory_search to find the right id.`);
      }
      throw error;
    }
    return { output: `Forgot memory ${args.id}.`, metadata: { id: args.id } };
  },
});

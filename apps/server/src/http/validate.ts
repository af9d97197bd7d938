import type { Context } from "hono";
import type { z } from "zod";
import { BadRequestError, ValidationError } from "../errors.js";
import { fieldErrorsFrom } from "./errors.js";

/** Reads a JSON body and validates it; a malformed body is a 400, a schema failure a 422 with fields. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new BadRequestError("invalid_json", "The request body is not valid JSON");
  }
  return parseWith(schema, raw);
}

export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(fieldErrorsFrom(parsed.error));
  return parsed.data;
}

/** Query-string parameters, validated the same way. */
export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseWith(schema, c.req.query());
}

import type { Context } from "hono";
import type { z } from "zod";
import { BadRequestError, UnsupportedMediaTypeError, ValidationError } from "../errors.js";
import { fieldErrorsFrom } from "./errors.js";

/**
 * Whether the body is declared as JSON. A page on another site can send a no-cors POST only as text/plain,
 * form data or multipart, so a JSON route that insists on application/json cannot be written to from there.
 */
export function declaresJson(c: Context): boolean {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!;
  return mediaType.trim().toLowerCase() === "application/json";
}

/**
 * Reads a JSON body and validates it: another media type is a 415, a malformed body a 400, a schema failure a
 * 422 with fields.
 */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  if (!declaresJson(c)) throw new UnsupportedMediaTypeError();
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

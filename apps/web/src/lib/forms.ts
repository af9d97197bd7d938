import { useCallback, useState } from "react";
import { ApiError } from "./api";

type Issue = { path: ReadonlyArray<PropertyKey>; message: string };
type Schema = { safeParse(value: unknown): { success: boolean; error?: { issues: Issue[] } } };

/** Runs a protocol schema in the browser and returns per-field messages the way the server's 422 would, or null. */
export function validate(schema: Schema, value: unknown): Record<string, string> | null {
  const result = schema.safeParse(value);
  if (result.success) return null;
  const fields: Record<string, string> = {};
  for (const issue of result.error?.issues ?? []) {
    const key = issue.path.length ? issue.path.map(String).join(".") : "_";
    fields[key] ??= issue.message;
  }
  return fields;
}

/**
 * Field errors for one form: set from local validation or from a failed request's 422 `fields`; a field's
 * message goes away as soon as the user edits it.
 */
export function useFieldErrors() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const clear = useCallback(
    (field: string) =>
      setErrors((all) => {
        if (!(field in all)) return all;
        const { [field]: _, ...rest } = all;
        return rest;
      }),
    [],
  );
  const fromError = useCallback((error: unknown) => {
    setErrors(error instanceof ApiError ? error.fields : {});
  }, []);
  return { errors, setErrors, clear, fromError };
}

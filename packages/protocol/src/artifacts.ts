import { z } from "zod";

/**
 * Artifacts: files a directive leaves behind for the person and the model (a screenshot, a report). The command
 * writes them into the folder named by `CYBROS_ARTIFACTS_DIR`; once it exits the Nexus uploads each one
 * (`POST /conduits/v1/directives/:id/artifacts`) before reporting `finished`; people read them at
 * `GET /api/artifacts/:id`.
 */

/** The environment variable that names a directive's artifacts folder, inside its facility. */
export const ARTIFACTS_DIR_ENV = "CYBROS_ARTIFACTS_DIR";
/** Where that folder sits, relative to the facility's root; one subfolder per directive id. */
export const ARTIFACTS_FOLDER = ".cybros/artifacts";
export const MAX_ARTIFACT_BYTES = 10 * 1024 * 1024;
export const MAX_ARTIFACTS_PER_DIRECTIVE = 20;

/** What may be stored and served back. No HTML or SVG: nothing that runs script, even sandboxed. */
export const artifactContentTypes = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "text/plain",
  "text/csv",
  "text/markdown",
  "application/json",
  "application/pdf",
  "application/octet-stream",
] as const;
export const artifactContentType = z.enum(artifactContentTypes, { error: "is not a content type artifacts allow" });
export type ArtifactContentType = z.infer<typeof artifactContentType>;

const byExtension: Record<string, ArtifactContentType> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  md: "text/markdown",
  json: "application/json",
  pdf: "application/pdf",
};

/** The content type of a file by its extension; anything unknown is plain bytes. */
export function artifactContentTypeOf(fileName: string): ArtifactContentType {
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? "";
  return byExtension[extension] ?? "application/octet-stream";
}

/** A file name without a folder: letters, digits, `.`, `_`, `-`, not starting with a dot. */
export const artifactName = z
  .string()
  .min(1, "is required")
  .max(200, "is at most 200 characters")
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, "must be a plain file name (letters, digits, . _ -)");

export const artifactUploadRequest = z.object({
  name: artifactName,
  content_type: artifactContentType,
  bytes: z.base64("must be standard base64"),
});
export type ArtifactUploadRequest = z.infer<typeof artifactUploadRequest>;

export const artifactUploadResponse = z.object({
  artifact_id: z.string(),
  directive_id: z.string(),
  name: z.string(),
  size_bytes: z.number().int().min(0),
  /** The same name with the same bytes was already stored: nothing changed. */
  duplicate: z.boolean(),
});
export type ArtifactUploadResponse = z.infer<typeof artifactUploadResponse>;

/** An artifact as the server and the web app name it; its bytes are at `GET /api/artifacts/:id`. */
export const artifactRef = z.object({
  id: z.string(),
  name: z.string(),
  contentType: artifactContentType,
  bytes: z.number().int().min(0),
});
export type ArtifactRef = z.infer<typeof artifactRef>;

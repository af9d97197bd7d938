import { RemoteResourceError, ValidationError } from "../errors.js";
import { OutboundError, outboundRequest } from "../outbound/index.js";

/**
 * Images a reply links to, fetched by the server only when the person asks (the page never loads a remote image
 * itself: a model could be talked into leaking data through an image URL). The fetch goes through the outbound
 * guard like web_fetch, and only raster image types come back; SVG is refused, as it can carry script.
 */

export const MAX_REMOTE_IMAGE_BYTES = 5 * 1024 * 1024;
export const REMOTE_IMAGE_TIMEOUT_MS = 10_000;

const imageTypes: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "image/x-icon",
  "image/vnd.microsoft.icon",
]);

export interface RemoteImage {
  contentType: string;
  body: Buffer;
}

export async function fetchRemoteImage(url: string, allowlist: readonly string[]): Promise<RemoteImage> {
  let response: Awaited<ReturnType<typeof outboundRequest>>;
  try {
    response = await outboundRequest(url, {
      allowlist,
      maxBytes: MAX_REMOTE_IMAGE_BYTES,
      timeoutMs: REMOTE_IMAGE_TIMEOUT_MS,
      headers: { accept: [...imageTypes].join(", ") },
    });
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    if (error.code === "invalid_url") throw new ValidationError({ url: error.message });
    throw new RemoteResourceError(
      `remote_image_${error.code}`,
      error.message,
      error.code === "forbidden_address" ? 403 : 502,
    );
  }
  if (response.status >= 400) {
    throw new RemoteResourceError("remote_image_failed", `The image's server answered HTTP ${response.status}`, 502);
  }
  const contentType = String(response.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  if (!imageTypes.has(contentType)) {
    throw new RemoteResourceError(
      "remote_image_not_an_image",
      `Not an image this app shows (${contentType || "no content type"})`,
      415,
    );
  }
  if (response.truncated) {
    throw new RemoteResourceError(
      "remote_image_too_large",
      `The image is larger than ${MAX_REMOTE_IMAGE_BYTES / 1024 / 1024} MB`,
      413,
    );
  }
  return { contentType, body: response.body };
}

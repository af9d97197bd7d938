import type { ToolPart } from "../reconciler";
import { resultFields } from "./fields";
import type { ToolBodyProps } from "./index";
import { OutputPane } from "./OutputPane";

interface ImageArtifact {
  id: string;
  name: string;
}

/**
 * take_screenshot: the picture itself, served by the server (GET /api/artifacts/:id, same origin), a click opening
 * it full size in a new tab. Until it has come back, what the Mac printed.
 */
export function ScreenshotBody({ part, output }: ToolBodyProps) {
  const images = imageArtifacts(part);
  if (images.length === 0) {
    return output && output.chunks.length > 0 ? <OutputPane part={part} view={output} /> : null;
  }
  return (
    <div className="space-y-2">
      {images.map((image) => {
        const src = `/api/artifacts/${encodeURIComponent(image.id)}`;
        return (
          <a
            key={image.id}
            href={src}
            target="_blank"
            rel="noopener"
            className="block w-fit max-w-full overflow-hidden rounded-lg border border-line bg-surface-2"
            title={`Open ${image.name} full size`}
            data-artifact-image={image.id}
          >
            <img
              src={src}
              alt={`${part.title || "Screenshot"} (${image.name})`}
              loading="lazy"
              decoding="async"
              className="block max-h-96 max-w-full object-contain"
            />
          </a>
        );
      })}
    </div>
  );
}

/** The images among the tool's artifacts (`details.artifacts`: [{id, name, contentType}]). */
function imageArtifacts(part: ToolPart): ImageArtifact[] {
  const listed = resultFields(part)?.artifacts;
  if (!Array.isArray(listed)) return [];
  return listed.flatMap((entry: unknown) => {
    const artifact = entry && typeof entry === "object" ? (entry as Record<string, unknown>) : {};
    const { id, name, contentType } = artifact;
    if (typeof id !== "string" || !id || typeof contentType !== "string" || !contentType.startsWith("image/")) {
      return [];
    }
    return [{ id, name: typeof name === "string" && name ? name : "image" }];
  });
}

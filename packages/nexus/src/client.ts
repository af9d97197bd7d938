import {
  type ArtifactContentType,
  artifactUploadResponse,
  type ClaimedDirective,
  DIRECTIVE_TOKEN_HEADER,
  type DirectiveFinishedRequest,
  directiveFinishedResponse,
  directiveHeartbeatResponse,
  directiveStartedResponse,
  type EnrollRequest,
  enrollResponse,
  logChunkResponse,
  type OutputStream,
  type PollRequest,
  pollResponse,
  type TerritoryHeartbeatRequest,
  territoryHeartbeatResponse,
} from "@cybros/protocol";
import type { z } from "zod";

/** An answer the server gave with an error status; 429 and 5xx are worth retrying, the rest are final. */
export class ConduitsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${code}: ${message}`);
  }

  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** The Conduits API as a Nexus calls it; each answer is parsed with the protocol's schema. */
export class ConduitsClient {
  constructor(
    readonly serverUrl: string,
    private readonly territoryToken?: string,
  ) {}

  static async enroll(serverUrl: string, request: EnrollRequest) {
    return new ConduitsClient(serverUrl).send("/territories/enroll", request, enrollResponse);
  }

  heartbeat(request: TerritoryHeartbeatRequest) {
    return this.send("/territories/heartbeat", request, territoryHeartbeatResponse);
  }

  poll(request: PollRequest, signal?: AbortSignal) {
    return this.send("/polls", request, pollResponse, {}, signal);
  }

  started(directive: ClaimedDirective, nexusVersion: string) {
    return this.report(directive, "started", { nexus_version: nexusVersion }, directiveStartedResponse);
  }

  directiveHeartbeat(directive: ClaimedDirective) {
    return this.report(directive, "heartbeat", {}, directiveHeartbeatResponse);
  }

  logChunk(directive: ClaimedDirective, stream: OutputStream, seq: number, bytes: Buffer) {
    const body = { stream, seq, bytes: bytes.toString("base64") };
    return this.report(directive, "log_chunks", body, logChunkResponse);
  }

  finished(directive: ClaimedDirective, report: DirectiveFinishedRequest) {
    return this.report(directive, "finished", report, directiveFinishedResponse);
  }

  artifact(directive: ClaimedDirective, name: string, contentType: ArtifactContentType, bytes: Buffer) {
    const body = { name, content_type: contentType, bytes: bytes.toString("base64") };
    return this.report(directive, "artifacts", body, artifactUploadResponse);
  }

  private report<S extends z.ZodType>(directive: ClaimedDirective, verb: string, body: unknown, schema: S) {
    return this.send(`/directives/${directive.directive_id}/${verb}`, body, schema, {
      [DIRECTIVE_TOKEN_HEADER]: directive.directive_token,
    });
  }

  private async send<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<z.infer<S>> {
    const response = await fetch(new URL(`/conduits/v1${path}`, this.serverUrl), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.territoryToken ? { authorization: `Bearer ${this.territoryToken}` } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
      signal,
    });
    const answer = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new ConduitsError(
        response.status,
        answer.error?.code ?? "http_error",
        answer.error?.message ?? response.statusText,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return schema.parse(answer);
  }
}

/** Retries network errors, 429 and 5xx with backoff (honouring Retry-After); other errors are final. */
export async function withRetries<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  let delayMs = 500;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const retryable = !(error instanceof ConduitsError) || error.retryable;
      if (!retryable || i >= tries) throw error;
      const wait = error instanceof ConduitsError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : delayMs;
      await new Promise((resolve) => setTimeout(resolve, wait));
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  }
}

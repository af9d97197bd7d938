ALTER TABLE "llm_providers" ADD COLUMN "headers_encrypted" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- SQL has no master key: values move marked "plain:" and the server seals them at its next start
-- (sealPlainHeaderValues in providers/index.ts, before it serves anything).
UPDATE "llm_providers" SET "headers_encrypted" = (
  SELECT coalesce(jsonb_object_agg(h.key, 'plain:' || h.value), '{}'::jsonb) FROM jsonb_each_text("headers") AS h
);--> statement-breakpoint
ALTER TABLE "llm_providers" DROP COLUMN "headers";

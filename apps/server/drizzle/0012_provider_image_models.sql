ALTER TABLE "llm_providers" ADD COLUMN "image_models" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
-- The built-in mock already seeded (seeds run only once per provider) accepts images too.
UPDATE "llm_providers" SET "image_models" = '["mock-model"]'::jsonb WHERE "base_url" LIKE '/mock_llm/%' AND "model_allowlist" ? 'mock-model';

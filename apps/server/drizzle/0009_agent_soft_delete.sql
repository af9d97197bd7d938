DROP INDEX "agent_programs_account_name_idx";--> statement-breakpoint
ALTER TABLE "agent_programs" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_programs_account_name_idx" ON "agent_programs" USING btree ("account_id",lower("name")) WHERE "agent_programs"."deleted_at" is null;
DROP INDEX "conversations_user_activity_idx";--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "title_source" text DEFAULT 'auto' NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "last_message_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_user_last_message_idx" ON "conversations" USING btree ("user_id","last_message_at");--> statement-breakpoint
-- Backfill (by hand): the last user message's time, else creation; titles of conversations with messages are
-- left as they are (a person may have renamed them: nothing tells).
UPDATE "conversations" c SET "last_message_at" = coalesce(
	(SELECT max(n."created_at") FROM "nodes" n WHERE n."conversation_id" = c."id" AND n."kind" = 'user_message'),
	c."created_at"
), "title_source" = CASE WHEN c."last_turn_seq" > 0 THEN 'generated' ELSE 'auto' END;--> statement-breakpoint
ALTER TABLE "conversations" DROP COLUMN "last_activity_at";

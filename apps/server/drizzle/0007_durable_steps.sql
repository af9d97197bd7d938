CREATE TABLE "run_steps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"node_id" uuid,
	"input" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"output" jsonb,
	"wait_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "conversation_runs_running_idx";--> statement-breakpoint
ALTER TABLE "conversation_runs" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_run_id_conversation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."conversation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "run_steps_run_ordinal_idx" ON "run_steps" USING btree ("run_id","ordinal");--> statement-breakpoint
CREATE INDEX "run_steps_waiting_idx" ON "run_steps" USING btree ("wait_key") WHERE "run_steps"."state" = 'waiting';--> statement-breakpoint
CREATE INDEX "conversation_runs_lease_idx" ON "conversation_runs" USING btree ("lease_expires_at") WHERE "conversation_runs"."state" = 'running';
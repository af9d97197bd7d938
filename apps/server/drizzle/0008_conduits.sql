CREATE TABLE "directive_log_chunks" (
	"directive_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"seq" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "directive_log_chunks_directive_id_stream_seq_pk" PRIMARY KEY("directive_id","stream","seq")
);
--> statement-breakpoint
CREATE TABLE "directives" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"facility_id" uuid NOT NULL,
	"territory_id" uuid NOT NULL,
	"run_step_id" uuid,
	"state" text NOT NULL,
	"driver" text NOT NULL,
	"spec" jsonb NOT NULL,
	"timeout_seconds" integer NOT NULL,
	"output_cap_bytes" integer NOT NULL,
	"token_hash" text,
	"lease_expires_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"output_bytes" bigint DEFAULT 0 NOT NULL,
	"stdout_truncated" boolean DEFAULT false NOT NULL,
	"stderr_truncated" boolean DEFAULT false NOT NULL,
	"diff_truncated" boolean DEFAULT false NOT NULL,
	"exit_code" integer,
	"result" jsonb,
	"diff" text,
	"result_hash" text,
	"end_reason" text,
	"nexus_version" text,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"leased_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"territory_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "facilities" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"territory_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"root" text,
	"repo_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "territories" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"name" text NOT NULL,
	"platform" text NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"capacity" integer DEFAULT 1 NOT NULL,
	"running" integer DEFAULT 0 NOT NULL,
	"drivers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"nexus_version" text,
	"status" text NOT NULL,
	"token_hash" text NOT NULL,
	"heartbeat_interval_seconds" integer NOT NULL,
	"last_seen_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "directive_log_chunks" ADD CONSTRAINT "directive_log_chunks_directive_id_directives_id_fk" FOREIGN KEY ("directive_id") REFERENCES "public"."directives"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directives" ADD CONSTRAINT "directives_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directives" ADD CONSTRAINT "directives_facility_id_facilities_id_fk" FOREIGN KEY ("facility_id") REFERENCES "public"."facilities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directives" ADD CONSTRAINT "directives_territory_id_territories_id_fk" FOREIGN KEY ("territory_id") REFERENCES "public"."territories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "facilities" ADD CONSTRAINT "facilities_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "facilities" ADD CONSTRAINT "facilities_territory_id_territories_id_fk" FOREIGN KEY ("territory_id") REFERENCES "public"."territories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "territories" ADD CONSTRAINT "territories_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "directives_claim_idx" ON "directives" USING btree ("territory_id","queued_at") WHERE "directives"."state" = 'queued';--> statement-breakpoint
CREATE UNIQUE INDEX "directives_one_active_per_facility_idx" ON "directives" USING btree ("facility_id") WHERE "directives"."state" IN ('leased', 'running');--> statement-breakpoint
CREATE INDEX "directives_active_idx" ON "directives" USING btree ("lease_expires_at") WHERE "directives"."state" IN ('leased', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_hash_idx" ON "enrollment_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "facilities_territory_idx" ON "facilities" USING btree ("territory_id");--> statement-breakpoint
CREATE UNIQUE INDEX "territories_token_hash_idx" ON "territories" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "territories_account_idx" ON "territories" USING btree ("account_id");
CREATE TABLE "approvals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"directive_id" uuid NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"decided_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"agent_program_id" uuid,
	"facility_id" uuid,
	"rules" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_programs" ADD COLUMN "workspace_facility_id" uuid;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "workspace_facility_id" uuid;--> statement-breakpoint
ALTER TABLE "directives" ADD COLUMN "approval_reasons" jsonb;--> statement-breakpoint
ALTER TABLE "territories" ADD COLUMN "local" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_directive_id_directives_id_fk" FOREIGN KEY ("directive_id") REFERENCES "public"."directives"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_agent_program_id_agent_programs_id_fk" FOREIGN KEY ("agent_program_id") REFERENCES "public"."agent_programs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_facility_id_facilities_id_fk" FOREIGN KEY ("facility_id") REFERENCES "public"."facilities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_directive_idx" ON "approvals" USING btree ("directive_id");--> statement-breakpoint
CREATE UNIQUE INDEX "policies_level_idx" ON "policies" USING btree ("account_id",coalesce("agent_program_id", '00000000-0000-0000-0000-000000000000'::uuid),coalesce("facility_id", '00000000-0000-0000-0000-000000000000'::uuid));--> statement-breakpoint
ALTER TABLE "agent_programs" ADD CONSTRAINT "agent_programs_workspace_facility_id_facilities_id_fk" FOREIGN KEY ("workspace_facility_id") REFERENCES "public"."facilities"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_workspace_facility_id_facilities_id_fk" FOREIGN KEY ("workspace_facility_id") REFERENCES "public"."facilities"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "facilities_territory_root_idx" ON "facilities" USING btree ("territory_id","root") WHERE "facilities"."root" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "territories_one_local_idx" ON "territories" USING btree ("account_id") WHERE "territories"."local";
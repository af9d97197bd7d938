CREATE TABLE "directive_artifacts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"directive_id" uuid NOT NULL,
	"name" text NOT NULL,
	"content_type" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	"size_bytes" integer NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "facilities" ADD COLUMN "purpose" text;--> statement-breakpoint
ALTER TABLE "directive_artifacts" ADD CONSTRAINT "directive_artifacts_directive_id_directives_id_fk" FOREIGN KEY ("directive_id") REFERENCES "public"."directives"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "directive_artifacts_name_idx" ON "directive_artifacts" USING btree ("directive_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "facilities_territory_purpose_idx" ON "facilities" USING btree ("territory_id","purpose") WHERE "facilities"."purpose" is not null;
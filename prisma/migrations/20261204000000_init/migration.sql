-- Messages, request records, per-minute statistics and status events.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE "message" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "channel" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "dedup_kind" TEXT NOT NULL,
    "external_id" TEXT,
    "sender" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "subject" TEXT,
    "text_preview" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "raw_body" BYTEA,
    "headers" JSONB NOT NULL,
    "media" JSONB NOT NULL DEFAULT '[]',
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "duplicate_count" INTEGER NOT NULL DEFAULT 0,
    "last_duplicate_at" TIMESTAMPTZ(3),
    "replay_of_id" UUID,
    CONSTRAINT "message_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "message_channel_check" CHECK ("channel" IN ('email', 'whatsapp', 'sms')),
    CONSTRAINT "message_dedup_kind_check" CHECK ("dedup_kind" IN ('id', 'hash'))
);

-- The deduplication decision: one row per (channel, key), enforced by
-- PostgreSQL so that concurrent inserts cannot both win.
CREATE UNIQUE INDEX "message_channel_dedup_key_key" ON "message" ("channel", "dedup_key");
CREATE INDEX "message_received_at_id_idx" ON "message" ("received_at" DESC, "id" DESC);
CREATE INDEX "message_channel_received_at_id_idx" ON "message" ("channel", "received_at" DESC, "id" DESC);
CREATE INDEX "message_provider_received_at_id_idx" ON "message" ("provider", "received_at" DESC, "id" DESC);
CREATE INDEX "message_replay_of_id_idx" ON "message" ("replay_of_id") WHERE "replay_of_id" IS NOT NULL;
CREATE INDEX "message_sender_trgm_idx" ON "message" USING GIN ("sender" gin_trgm_ops);
CREATE INDEX "message_recipient_trgm_idx" ON "message" USING GIN ("recipient" gin_trgm_ops);
CREATE INDEX "message_subject_trgm_idx" ON "message" USING GIN ("subject" gin_trgm_ops);
CREATE INDEX "message_text_preview_trgm_idx" ON "message" USING GIN ("text_preview" gin_trgm_ops);

CREATE TABLE "request_record" (
    "id" BIGSERIAL NOT NULL,
    "request_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "provider" TEXT,
    "channel" TEXT,
    "status" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "latency_ms" DOUBLE PRECISION NOT NULL,
    "message_id" UUID,
    "duplicate_of_id" UUID,
    "error_message" TEXT,
    "excerpt" TEXT,
    "content_type" TEXT,
    "content_length" INTEGER,
    "client_ip" TEXT,
    CONSTRAINT "request_record_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "request_record_received_at_id_idx" ON "request_record" ("received_at" DESC, "id" DESC);
CREATE INDEX "request_record_outcome_received_at_id_idx" ON "request_record" ("outcome", "received_at" DESC, "id" DESC);
CREATE INDEX "request_record_message_id_idx" ON "request_record" ("message_id") WHERE "message_id" IS NOT NULL;
CREATE INDEX "request_record_duplicate_of_id_idx" ON "request_record" ("duplicate_of_id") WHERE "duplicate_of_id" IS NOT NULL;

-- One row per minute and channel ('' when the channel is unknown), kept up
-- to date by the request-record writer, so charts over days read thousands
-- of rows instead of millions. latency_hist[i] counts requests whose latency
-- falls in bucket i of app/ingest/latency-histogram.ts.
CREATE TABLE "request_stats_minute" (
    "bucket" TIMESTAMPTZ(0) NOT NULL,
    "channel" TEXT NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "duplicate" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "latency_sum_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latency_hist" INTEGER[] NOT NULL,
    CONSTRAINT "request_stats_minute_pkey" PRIMARY KEY ("bucket", "channel")
);

CREATE TABLE "status_event" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "external_message_id" TEXT NOT NULL,
    "message_id" UUID,
    "status" TEXT NOT NULL,
    "error_code" TEXT,
    "payload" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "status_event_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "status_event_provider_external_status_key" ON "status_event" ("provider", "external_message_id", "status");
CREATE INDEX "status_event_message_id_idx" ON "status_event" ("message_id") WHERE "message_id" IS NOT NULL;

-- Mailgun signs only timestamp + token, not the body, so a captured request
-- could be replayed with another body. Each token is remembered with the
-- message it arrived with: a retry of that message may reuse it, any other
-- use is rejected. Rows older than the retention are purged by the app.
CREATE TABLE "mailgun_token" (
    "token" TEXT NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "mailgun_token_pkey" PRIMARY KEY ("token")
);

CREATE INDEX "mailgun_token_seen_at_idx" ON "mailgun_token" ("seen_at");

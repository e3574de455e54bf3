-- Hourly totals of request_stats_minute, kept in step by statement triggers
-- on insert, update, delete and truncate, so the 7-day latency chart sums
-- 168 rows per channel instead of 10,080. Summing the 64 histogram positions
-- of 30,000 minute rows took about 100 ms in bench/dashboard-scale.ts
-- (PostgreSQL 15, 2 shared cores).
-- bucket is the start of the hour in UTC. minutes counts the minute rows
-- summed, and a row is deleted when it reaches 0, so an hour has a row
-- exactly when it has minute rows. latency_hist is bigint[] because an
-- hour can hold more requests per bucket than a minute.
CREATE TABLE "request_stats_hour" (
    "bucket" TIMESTAMPTZ(0) NOT NULL,
    "channel" TEXT NOT NULL,
    "minutes" INTEGER NOT NULL DEFAULT 0,
    "total" BIGINT NOT NULL DEFAULT 0,
    "accepted" BIGINT NOT NULL DEFAULT 0,
    "duplicate" BIGINT NOT NULL DEFAULT 0,
    "rejected" BIGINT NOT NULL DEFAULT 0,
    "latency_sum_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latency_hist" BIGINT[] NOT NULL,
    CONSTRAINT "request_stats_hour_pkey" PRIMARY KEY ("bucket", "channel")
);

-- Adds the minute rows `added` and subtracts the minute rows `removed`,
-- grouped by hour. An UPDATE passes both, so a changed bucket or channel
-- moves the counts between hours. date_bin with a UTC origin ignores the
-- session time zone, unlike date_trunc.
-- NOTE: subtracting latency_sum_ms can leave a rounding error of a few
-- ulps in the hour row. Integer columns stay exact.
-- PL/pgSQL caches the plan of the statement, which a LANGUAGE sql function
-- would plan again on every call.
CREATE FUNCTION "request_stats_hour_apply"(
  added "request_stats_minute"[],
  removed "request_stats_minute"[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH delta AS (
    SELECT date_bin(interval '1 hour', m.bucket,
             TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour, m.*, 1 AS sign
    FROM unnest(added) AS m
    UNION ALL
    SELECT date_bin(interval '1 hour', m.bucket,
             TIMESTAMPTZ '1970-01-01 00:00:00+00'), m.*, -1
    FROM unnest(removed) AS m
  ),
  sums AS (
    SELECT hour, channel, sum(sign)::int AS minutes,
           sum(sign * total) AS total, sum(sign * accepted) AS accepted,
           sum(sign * duplicate) AS duplicate,
           sum(sign * rejected) AS rejected,
           sum(sign * latency_sum_ms) AS latency_sum_ms
    FROM delta
    GROUP BY hour, channel
  ),
  positions AS (
    SELECT d.hour, d.channel, h.idx, sum(d.sign * h.n) AS n
    FROM delta d
    CROSS JOIN LATERAL unnest(d.latency_hist) WITH ORDINALITY AS h(n, idx)
    GROUP BY d.hour, d.channel, h.idx
  ),
  histograms AS (
    SELECT hour, channel, array_agg(n ORDER BY idx)::bigint[] AS latency_hist
    FROM positions
    GROUP BY hour, channel
  )
  INSERT INTO "request_stats_hour" AS s (bucket, channel, minutes, total,
    accepted, duplicate, rejected, latency_sum_ms, latency_hist)
  SELECT sums.hour, sums.channel, sums.minutes, sums.total, sums.accepted,
         sums.duplicate, sums.rejected, sums.latency_sum_ms,
         coalesce(histograms.latency_hist, '{}')
  FROM sums
  LEFT JOIN histograms USING (hour, channel)
  ON CONFLICT (bucket, channel) DO UPDATE SET
    minutes = s.minutes + EXCLUDED.minutes,
    total = s.total + EXCLUDED.total,
    accepted = s.accepted + EXCLUDED.accepted,
    duplicate = s.duplicate + EXCLUDED.duplicate,
    rejected = s.rejected + EXCLUDED.rejected,
    latency_sum_ms = s.latency_sum_ms + EXCLUDED.latency_sum_ms,
    latency_hist = ARRAY(
      SELECT coalesce(a, 0) + coalesce(b, 0)
      FROM unnest(s.latency_hist, EXCLUDED.latency_hist) AS u(a, b)
    );

  DELETE FROM "request_stats_hour" WHERE minutes <= 0;
END
$$;

-- Statement triggers see all rows of a multi-row statement at once through
-- transition tables. A trigger with transition tables may name only one
-- event, hence three. They add about 0.25 ms to each statement that writes
-- request_stats_minute (2,000 single-row upserts took 0.50 s against
-- 0.05 s without them, PostgreSQL 15). The request-record writer issues one
-- such statement per minute and channel of a flushed batch.
CREATE FUNCTION "request_stats_hour_sync"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM "request_stats_hour_apply"(
      ARRAY(SELECT n::"request_stats_minute" FROM new_rows AS n), '{}');
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM "request_stats_hour_apply"(
      ARRAY(SELECT n::"request_stats_minute" FROM new_rows AS n),
      ARRAY(SELECT o::"request_stats_minute" FROM old_rows AS o));
  ELSE
    PERFORM "request_stats_hour_apply"(
      '{}', ARRAY(SELECT o::"request_stats_minute" FROM old_rows AS o));
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "request_stats_hour_insert"
  AFTER INSERT ON "request_stats_minute"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "request_stats_hour_sync"();
CREATE TRIGGER "request_stats_hour_update"
  AFTER UPDATE ON "request_stats_minute"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "request_stats_hour_sync"();
CREATE TRIGGER "request_stats_hour_delete"
  AFTER DELETE ON "request_stats_minute"
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "request_stats_hour_sync"();

-- TRUNCATE fires no row or statement trigger of the other events.
CREATE FUNCTION "request_stats_hour_clear"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "request_stats_hour";
  RETURN NULL;
END
$$;

CREATE TRIGGER "request_stats_hour_truncate"
  AFTER TRUNCATE ON "request_stats_minute"
  FOR EACH STATEMENT EXECUTE FUNCTION "request_stats_hour_clear"();

-- Minute rows written before this migration.
SELECT "request_stats_hour_apply"(
  ARRAY(SELECT m FROM "request_stats_minute" AS m), '{}');

-- The failures page lists every rejected request newest first. With the
-- eleven rejection outcomes as an IN list, the (outcome, received_at, id)
-- index cannot return rows in time order, so PostgreSQL would read and sort
-- every failure; this partial index serves the page with one range scan.
CREATE INDEX "request_record_failure_received_at_id_idx"
  ON "request_record" ("received_at" DESC, "id" DESC)
  WHERE "outcome" NOT IN ('accepted', 'duplicate', 'status_event', 'verified');

-- New entries of a GIN index go to a pending list first, and the insert
-- that fills the list past gin_pending_list_limit (4 MB by default) moves it
-- into the index while its statement waits. With the four trigram indexes
-- on message, such a merge held up one insert every few hundred
-- milliseconds, and the p99 latency of email ingest rose from about 20 ms
-- to about 40 ms (npm run bench with 50 connections on 2 cores).
-- A 256 kB list is moved in smaller steps, at the same throughput.
ALTER INDEX "message_sender_trgm_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "message_recipient_trgm_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "message_subject_trgm_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "message_text_preview_trgm_idx" SET (gin_pending_list_limit = 256);

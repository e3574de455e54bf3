-- New entries of a GIN index go to a pending list first, and the insert
-- that fills the list past gin_pending_list_limit (4 MB by default) moves it
-- into the index while its statement waits. With the four trigram indexes
-- on message, that made every few hundred milliseconds of ingest one
-- statement slow enough to raise the p99 latency of the batch it carried
-- from about 20 ms to about 40 ms (npm run bench, email messages, 2 cores).
-- A 512 kB list is moved in smaller steps, at the same throughput.
ALTER INDEX "message_sender_trgm_idx" SET (gin_pending_list_limit = 512);
ALTER INDEX "message_recipient_trgm_idx" SET (gin_pending_list_limit = 512);
ALTER INDEX "message_subject_trgm_idx" SET (gin_pending_list_limit = 512);
ALTER INDEX "message_text_preview_trgm_idx" SET (gin_pending_list_limit = 512);

-- The dedup lookup must use the unique index whatever the table's statistics.
-- With (channel, dedup_key), a plan made while the table was empty or never
-- analyzed could pick message_channel_received_at_id_idx instead, which
-- matches on channel alone and then reads every row of that channel; the
-- pooled connection kept that plan as the table grew, and every duplicate
-- then scanned thousands of rows. Lookups now compare channel COLLATE "C",
-- which only this index can serve. "C" compares bytes, as the default
-- deterministic collation does for equality, so the same keys stay unique.
CREATE UNIQUE INDEX "message_channel_dedup_key_key_c" ON "message" ("channel" COLLATE "C", "dedup_key");
DROP INDEX "message_channel_dedup_key_key";
ALTER INDEX "message_channel_dedup_key_key_c" RENAME TO "message_channel_dedup_key_key";

-- Dedup keys and status-event message ids longer than 512 bytes are stored
-- as 'sha256:' followed by the hex SHA-256 of their UTF-8 bytes
-- (app/ingest/index-key.server.ts), because a btree entry is limited to 2,704
-- bytes. Keys of 513 to about 2,700 bytes written before that rule are
-- rewritten the same way here, or a retry of such a message would be stored
-- a second time. A row whose digest key already exists keeps its plain key,
-- so the unique indexes hold.
UPDATE "message" AS m
SET "dedup_key" = 'sha256:' || encode(sha256(convert_to(m."dedup_key", 'UTF8')), 'hex')
WHERE octet_length(m."dedup_key") > 512
  AND NOT EXISTS (
    SELECT FROM "message" AS other
    WHERE other."channel" = m."channel"
      AND other."dedup_key" = 'sha256:' || encode(sha256(convert_to(m."dedup_key", 'UTF8')), 'hex')
  );

UPDATE "status_event" AS s
SET "external_message_id" = 'sha256:' || encode(sha256(convert_to(s."external_message_id", 'UTF8')), 'hex')
WHERE octet_length(s."external_message_id") > 512
  AND NOT EXISTS (
    SELECT FROM "status_event" AS other
    WHERE other."provider" = s."provider"
      AND other."status" = s."status"
      AND other."external_message_id" = 'sha256:' || encode(sha256(convert_to(s."external_message_id", 'UTF8')), 'hex')
  );

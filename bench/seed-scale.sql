-- Fills an empty, migrated database with :messages messages spread over the
-- last 7 days and :records request records (accepted, duplicates and
-- failures), plus per-minute statistics for every minute and channel.
-- Run through bench/dashboard-scale.ts, which sets the two counts.
-- Message ids are md5('scale-' || n)::uuid, so duplicates can point at
-- their original without a join.

INSERT INTO message (id, channel, provider, dedup_key, dedup_kind, external_id,
  sender, recipient, subject, text_preview, payload, headers, media, received_at)
SELECT
  md5('scale-' || i)::uuid,
  (ARRAY['email', 'whatsapp', 'sms'])[1 + i % 3],
  (ARRAY['test', 'twilio', 'meta', 'sendgrid', 'mailgun', 'postmark'])[1 + (i / 3) % 6],
  'id:scale-' || i,
  'id',
  'scale-' || i,
  CASE i % 3 WHEN 0 THEN 'customer' || (i % 50000) || '@example.com'
    ELSE '+1415' || lpad((i % 9000000)::text, 7, '0') END,
  CASE i % 3 WHEN 0 THEN 'support' || (i % 20) || '@inbox.example'
    ELSE '+1628' || lpad((i % 20)::text, 7, '0') END,
  CASE i % 3 WHEN 0 THEN 'Order ' || (i % 100000) || ' question' ELSE NULL END,
  'Message number ' || i || ' about order ' || (i % 100000),
  jsonb_build_object('n', i),
  '{}'::jsonb,
  '[]'::jsonb,
  now() - (i::double precision / :messages) * interval '7 days'
FROM generate_series(1, :messages) AS i;

-- One accepted record per message, then duplicates of recent messages and
-- failures, up to :records rows in all.
INSERT INTO request_record (request_id, received_at, method, path, provider,
  channel, status, outcome, latency_ms, message_id)
SELECT 'scale-' || row_number() OVER (), received_at, 'POST',
  '/api/webhooks/test-multichannel', provider, channel, 201, 'accepted',
  2 + random() * 10, id
FROM message;

INSERT INTO request_record (request_id, received_at, method, path, provider,
  channel, status, outcome, latency_ms, duplicate_of_id, error_message, excerpt)
SELECT
  'scale-extra-' || i,
  now() - (i::double precision / (:records - :messages)) * interval '7 days',
  'POST',
  '/api/webhooks/test-multichannel',
  'test',
  (ARRAY['email', 'whatsapp', 'sms'])[1 + i % 3],
  CASE WHEN i % 4 = 0 THEN 400 ELSE 409 END,
  CASE WHEN i % 4 = 0 THEN 'invalid' ELSE 'duplicate' END,
  1 + random() * 8,
  CASE WHEN i % 4 = 0 THEN NULL
    ELSE md5('scale-' || (1 + i % :messages))::uuid END,
  CASE WHEN i % 4 = 0 THEN 'Payload is invalid. to: is required' ELSE NULL END,
  CASE WHEN i % 4 = 0 THEN '{"channel":"sms"}' ELSE NULL END
FROM generate_series(1, :records - :messages) AS i;

INSERT INTO request_stats_minute (bucket, channel, total, accepted, duplicate,
  rejected, latency_sum_ms, latency_hist)
SELECT minute, channel, 297, 217, 60, 20, 297 * 4.5,
  ARRAY(SELECT CASE WHEN b BETWEEN 24 AND 34 THEN 27 ELSE 0 END
        FROM generate_series(0, 63) AS b)
FROM generate_series(date_trunc('minute', now() - interval '7 days'),
                     date_trunc('minute', now()), interval '1 minute') AS minute,
     unnest(ARRAY['email', 'whatsapp', 'sms']) AS channel
ON CONFLICT DO NOTHING;

ANALYZE message;
ANALYZE request_record;
ANALYZE request_stats_minute;

import { expect, test } from "vitest";
import { rejectionMessage } from "../support/verification";
import {
  standardWebhookSignature,
  verifyStandardWebhook,
} from "../../app/ingest/providers/resend.server";

const SECRET = "whsec_dGVzdC1yZXNlbmQtd2ViaG9vay1zZWNyZXQtMzJieXQ=";
const OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGU=";
const ID = "msg_2Z0000000000000000000001";
const TIMESTAMP = "1767268800";
const NOW = new Date(1767268800 * 1000);
const BODY = Buffer.from('{"type":"email.received","data":{"subject":"№ 77"}}');
const SIGNATURE = standardWebhookSignature(SECRET, ID, TIMESTAMP, BODY);

function headers(overrides: Partial<Record<string, string | undefined>> = {}) {
  return { id: ID, timestamp: TIMESTAMP, signature: SIGNATURE, ...overrides };
}

test("valid signature passes", () => {
  expect(verifyStandardWebhook(SECRET, headers(), BODY, NOW)).toEqual({
    ok: true,
  });
});

test("changed body fails", () => {
  const body = Buffer.from(BODY.toString().replace("77", "78"));
  expect(verifyStandardWebhook(SECRET, headers(), body, NOW).ok).toBe(false);
});

test("changed id fails", () => {
  const result = verifyStandardWebhook(
    SECRET,
    headers({ id: "msg_other" }),
    BODY,
    NOW,
  );
  expect(result.ok).toBe(false);
});

test("changed timestamp fails", () => {
  const result = verifyStandardWebhook(
    SECRET,
    headers({ timestamp: "1767268801" }),
    BODY,
    NOW,
  );
  expect(result.ok).toBe(false);
});

test("other secret fails", () => {
  expect(verifyStandardWebhook(OTHER_SECRET, headers(), BODY, NOW).ok).toBe(
    false,
  );
});

test("old timestamp is rejected", () => {
  const later = new Date(NOW.getTime() + 301_000);
  const result = verifyStandardWebhook(SECRET, headers(), BODY, later);
  expect(result.ok).toBe(false);
  expect(rejectionMessage(result)).toContain("seconds in the past");
});

test("future timestamp is rejected", () => {
  const earlier = new Date(NOW.getTime() - 301_000);
  const result = verifyStandardWebhook(SECRET, headers(), BODY, earlier);
  expect(result.ok).toBe(false);
  expect(rejectionMessage(result)).toContain("seconds in the future");
});

test("timestamp at the tolerance passes", () => {
  const later = new Date(NOW.getTime() + 300_000);
  expect(verifyStandardWebhook(SECRET, headers(), BODY, later).ok).toBe(true);
});

test("rotated key list passes", () => {
  const old = standardWebhookSignature(OTHER_SECRET, ID, TIMESTAMP, BODY);
  const list = `${old} ${SIGNATURE}`;
  const result = verifyStandardWebhook(
    SECRET,
    headers({ signature: list }),
    BODY,
    NOW,
  );
  expect(result.ok).toBe(true);
});

test("list without a match fails", () => {
  const old = standardWebhookSignature(OTHER_SECRET, ID, TIMESTAMP, BODY);
  const result = verifyStandardWebhook(
    SECRET,
    headers({ signature: `${old} v1,AAAA` }),
    BODY,
    NOW,
  );
  expect(result.ok).toBe(false);
});

test("other version prefix fails", () => {
  const v2 = SIGNATURE.replace("v1,", "v2,");
  const result = verifyStandardWebhook(
    SECRET,
    headers({ signature: v2 }),
    BODY,
    NOW,
  );
  expect(result.ok).toBe(false);
});

test("missing id header fails", () => {
  const result = verifyStandardWebhook(
    SECRET,
    headers({ id: undefined }),
    BODY,
    NOW,
  );
  expect(rejectionMessage(result)).toBe("webhook-id header is missing");
});

test("non-numeric timestamp fails", () => {
  const result = verifyStandardWebhook(
    SECRET,
    headers({ timestamp: "2026-01-01" }),
    BODY,
    NOW,
  );
  expect(rejectionMessage(result)).toContain("Unix seconds");
});

test("known vector from the fixture", () => {
  const body = Buffer.from(
    '{"type":"email.received","created_at":"2026-01-01T12:00:00.000Z","data":{"email_id":"d0000000-0000-4000-8000-000000000001","created_at":"2026-01-01T11:59:59.000Z","from":"Alice Example <alice@example.com>","to":["support@inbound.example.test"],"cc":[],"bcc":[],"message_id":"<CAR00000000000000000000000000000001@mail.example.com>","subject":"Need help with invoice № 77","attachments":[{"id":"e0000000-0000-4000-8000-000000000001","filename":"invoice.pdf","content_type":"application/pdf","content_disposition":"attachment","content_id":null}]}}',
  );
  expect(standardWebhookSignature(SECRET, ID, TIMESTAMP, body)).toBe(
    "v1,y+5KXIGm6EkkBC7ITXY/VhttFhij4hFQc5gZ7SmRSMU=",
  );
});

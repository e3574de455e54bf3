import { expect, test } from "vitest";
import { rejectionMessage, rejectionStatus } from "../support/verification";
import {
  mailgunSignature,
  MAX_TIMESTAMP_AGE_SECONDS,
  verifyMailgunSignature,
} from "../../app/ingest/providers/mailgun.server";

const KEY = "test-mailgun-webhook-signing-key";
const TIMESTAMP = "1767268800";
const TOKEN = "e0b5477167110d68991efc6b9f89f0a11066af27834600e100";
const NOW = new Date(1767268800 * 1000);
const SIGNATURE = mailgunSignature(KEY, TIMESTAMP, TOKEN);

function fields(overrides: Record<string, string | undefined> = {}) {
  const values: Record<string, string | undefined> = {
    timestamp: TIMESTAMP,
    token: TOKEN,
    signature: SIGNATURE,
    ...overrides,
  };
  return { get: (name: string) => values[name] };
}

test("valid signature passes", () => {
  expect(verifyMailgunSignature(KEY, fields(), NOW)).toEqual({ ok: true });
});

test("known vector from the fixture", () => {
  expect(SIGNATURE).toBe(
    "a8c6e37ef8286157ec9d6d156949f1159b8c99f9ca8dae1c97ead01ed407c0ff",
  );
});

test("changed token fails", () => {
  const result = verifyMailgunSignature(
    KEY,
    fields({ token: TOKEN.replace("e0", "e1") }),
    NOW,
  );
  expect(result.ok).toBe(false);
  expect(rejectionStatus(result)).toBe(406);
});

test("changed timestamp fails", () => {
  const result = verifyMailgunSignature(
    KEY,
    fields({ timestamp: "1767268801" }),
    NOW,
  );
  expect(result.ok).toBe(false);
});

test("other key fails", () => {
  expect(verifyMailgunSignature("other-key", fields(), NOW).ok).toBe(false);
});

test("missing token fails", () => {
  const result = verifyMailgunSignature(KEY, fields({ token: undefined }), NOW);
  expect(rejectionMessage(result)).toBe("token is missing");
});

test("old timestamp is rejected", () => {
  const later = new Date(
    NOW.getTime() + (MAX_TIMESTAMP_AGE_SECONDS + 1) * 1000,
  );
  const result = verifyMailgunSignature(KEY, fields(), later);
  expect(rejectionMessage(result)).toContain("seconds old");
});

test("future timestamp is rejected", () => {
  const earlier = new Date(NOW.getTime() - 301_000);
  const result = verifyMailgunSignature(KEY, fields(), earlier);
  expect(rejectionMessage(result)).toContain("in the future");
});

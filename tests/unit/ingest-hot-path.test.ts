import { expect, test } from "vitest";
import { pathnameOf } from "~/ingest/node-adapter.server";
import {
  countDuplicates,
  type RequestRecord,
} from "~/ingest/request-records.server";

const noHeaders = () => undefined;

test("pathnameOf keeps a plain path", () => {
  expect(pathnameOf("/api/webhooks/test-multichannel", noHeaders)).toBe(
    "/api/webhooks/test-multichannel",
  );
});

test("pathnameOf drops the query", () => {
  expect(pathnameOf("/api/webhooks/twilio/sms?a=1&b=2", noHeaders)).toBe(
    "/api/webhooks/twilio/sms",
  );
});

test("pathnameOf resolves dot segments like URL", () => {
  expect(pathnameOf("/api/webhooks/x/../test-multichannel", noHeaders)).toBe(
    "/api/webhooks/test-multichannel",
  );
});

test("pathnameOf keeps percent escapes like URL", () => {
  expect(pathnameOf("/api/webhooks/a b", noHeaders)).toBe(
    "/api/webhooks/a%20b",
  );
});

test("pathnameOf reads a leading // like URL", () => {
  expect(pathnameOf("//evil.example/api", noHeaders)).toBe(
    new URL("//evil.example/api", "http://localhost").pathname,
  );
});

function record(overrides: Partial<RequestRecord>): RequestRecord {
  return {
    requestId: "r",
    receivedAt: new Date("2026-12-04T10:00:00Z"),
    method: "POST",
    path: "/api/webhooks/test-multichannel",
    provider: "test",
    channel: "sms",
    status: 409,
    outcome: "duplicate",
    latencyMs: 1,
    messageId: null,
    duplicateOfId: null,
    errorMessage: null,
    excerpt: null,
    contentType: "application/json",
    contentLength: 10,
    clientIp: "127.0.0.1",
    ...overrides,
  };
}

test("countDuplicates sums per original", () => {
  const a = "00000000-0000-4000-8000-00000000000a";
  const b = "00000000-0000-4000-8000-00000000000b";
  const counts = countDuplicates([
    record({ duplicateOfId: b }),
    record({
      duplicateOfId: a,
      receivedAt: new Date("2026-12-04T10:00:05Z"),
    }),
    record({ duplicateOfId: a }),
    record({ outcome: "accepted", status: 201, messageId: a }),
  ]);
  expect(counts.ids).toEqual([a, b]);
  expect(counts.counts).toEqual([2, 1]);
  expect(counts.lastAt[0].toISOString()).toBe("2026-12-04T10:00:05.000Z");
});

test("countDuplicates skips records without an original", () => {
  const counts = countDuplicates([record({ duplicateOfId: null })]);
  expect(counts.ids).toEqual([]);
});

import { PassThrough, Readable } from "node:stream";
import { expect, test } from "vitest";
import { BodyTooLargeError, readBody } from "~/ingest/body.server";
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

test("readBody joins the chunks of a stream", async () => {
  const stream = Readable.from([Buffer.from("ab"), Buffer.from("cd")]);
  const body = await readBody(stream, 10);
  expect(body.toString()).toBe("abcd");
});

test("readBody rejects a stream over the limit", async () => {
  const stream = Readable.from([Buffer.alloc(6), Buffer.alloc(6)]);
  await expect(readBody(stream, 10)).rejects.toBeInstanceOf(BodyTooLargeError);
});

test("readBody leaves an oversized stream open", async () => {
  const stream = new PassThrough();
  stream.write(Buffer.alloc(11));
  await expect(readBody(stream, 10)).rejects.toBeInstanceOf(BodyTooLargeError);
  expect(stream.destroyed).toBe(false);
});

test("readBody reads an ended stream as empty", async () => {
  const stream = Readable.from([Buffer.from("x")]);
  stream.resume();
  await new Promise((resolve) => stream.once("end", resolve));
  const body = await readBody(stream, 10);
  expect(body.length).toBe(0);
});

test("readBody rejects a stream closed early", async () => {
  const stream = new PassThrough();
  stream.write(Buffer.from("partial"));
  const reading = readBody(stream, 100);
  stream.destroy();
  await expect(reading).rejects.toMatchObject({
    code: "ERR_STREAM_PREMATURE_CLOSE",
  });
});

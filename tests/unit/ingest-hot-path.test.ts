import { PassThrough, Readable } from "node:stream";
import { expect, test } from "vitest";
import { BodyTooLargeError, readBody } from "~/ingest/body.server";
import { pathnameOf } from "~/ingest/node-adapter.server";

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

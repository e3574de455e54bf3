import { createHash } from "node:crypto";
import { expect, test } from "vitest";
import {
  indexableKey,
  MAX_PLAIN_KEY_BYTES,
} from "../../app/ingest/index-key.server";

function sha256Key(key: string): string {
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

test("key at byte limit stays plain", () => {
  const key = "a".repeat(MAX_PLAIN_KEY_BYTES);
  expect(indexableKey(key)).toBe(key);
});

test("key over byte limit becomes digest", () => {
  const key = "a".repeat(MAX_PLAIN_KEY_BYTES + 1);
  expect(indexableKey(key)).toBe(sha256Key(key));
});

test("multibyte key measured in bytes", () => {
  // "é" is two bytes in UTF-8: 256 of them fit, 257 do not.
  const fits = "é".repeat(MAX_PLAIN_KEY_BYTES / 2);
  const over = "é".repeat(MAX_PLAIN_KEY_BYTES / 2 + 1);
  expect(indexableKey(fits)).toBe(fits);
  expect(indexableKey(over)).toBe(sha256Key(over));
});

test("equal long keys get equal digests", () => {
  const key = `postmark:${"x".repeat(3000)}`;
  expect(indexableKey(key)).toBe(indexableKey(`postmark:${"x".repeat(3000)}`));
  expect(indexableKey(key)).not.toBe(
    indexableKey(`resend:${"x".repeat(3000)}`),
  );
});

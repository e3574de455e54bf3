import { createHash } from "node:crypto";

/** The maximum key length, in UTF-8 bytes, that indexableKey returns unchanged. */
export const MAX_PLAIN_KEY_BYTES = 512;

/**
 * Returns `key` unchanged when it is at most MAX_PLAIN_KEY_BYTES long, else
 * `sha256:` and the hex SHA-256 digest of `key`. A btree index entry is at
 * most 2,704 bytes in PostgreSQL 15 with 8 kB pages, so a provider id longer
 * than that would fail every insert into a unique index. The digest keeps
 * such ids unique, and equal ids still map to equal keys.
 */
export function indexableKey(key: string): string {
  if (key.length * 3 <= MAX_PLAIN_KEY_BYTES) return key;
  if (Buffer.byteLength(key, "utf8") <= MAX_PLAIN_KEY_BYTES) return key;
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * Serializes `value` as RFC 8785 canonical JSON: keys sorted, no
 * insignificant whitespace, numbers in shortest form. Two payloads that
 * differ only in key order or whitespace give the same string.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) {
    throw new TypeError("Value cannot be serialized as JSON");
  }
  return text;
}

/** Returns the full SHA-256 of the canonical JSON of `value`, in hex. */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

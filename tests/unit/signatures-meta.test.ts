import { expect, test } from "vitest";
import { rejectionMessage } from "../support/verification";
import {
  metaSignature,
  verifyMetaSignature,
} from "../../app/ingest/providers/meta.server";

const SECRET = "test_meta_app_secret_0000000000";
// Meta escapes non-ASCII as \uXXXX in the bytes it signs.
const BODY = Buffer.from('{"entry":[{"text":"caf\\u00e9"}]}');
const HEADER = metaSignature(SECRET, BODY);

test("valid signature passes", () => {
  expect(verifyMetaSignature(SECRET, BODY, HEADER)).toEqual({ ok: true });
});

test("known vector from the fixture", () => {
  const body = Buffer.from(
    '{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000002","phone_number_id":"200000000000001"},"contacts":[{"profile":{"name":"Alice Example"},"wa_id":"15550000001"}],"messages":[{"from":"15550000001","id":"wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAw01AA==","timestamp":"1767268800","text":{"body":"Does it come in another color?"},"type":"text"}]},"field":"messages"}]}]}',
  );
  expect(metaSignature(SECRET, body)).toBe(
    "sha256=cf2f6b9d1e08109a21c84008342b1fe2c2370812320e5a4d970bc412f0d58025",
  );
});

test("unescaped body fails", () => {
  const reserialized = Buffer.from('{"entry":[{"text":"café"}]}');
  expect(verifyMetaSignature(SECRET, reserialized, HEADER).ok).toBe(false);
});

test("changed body fails", () => {
  const changed = Buffer.from(BODY.toString().replace("caf", "cof"));
  expect(verifyMetaSignature(SECRET, changed, HEADER).ok).toBe(false);
});

test("other secret fails", () => {
  expect(verifyMetaSignature("other", BODY, HEADER).ok).toBe(false);
});

test("missing header fails", () => {
  const result = verifyMetaSignature(SECRET, BODY, undefined);
  expect(result.ok).toBe(false);
  expect(rejectionMessage(result)).toBe(
    "X-Hub-Signature-256 header is missing",
  );
});

test("header without prefix fails", () => {
  const bare = HEADER.slice("sha256=".length);
  expect(verifyMetaSignature(SECRET, BODY, bare).ok).toBe(false);
});

test("uppercase hex passes", () => {
  const upper = "sha256=" + HEADER.slice(7).toUpperCase();
  expect(verifyMetaSignature(SECRET, BODY, upper).ok).toBe(true);
});

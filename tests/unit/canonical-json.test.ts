import { expect, test } from "vitest";
import { canonicalJson, contentHash } from "../../app/ingest/canonical-json";

test("canonicalJson sorts keys at every depth", () => {
  expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
});

test("canonicalJson keeps array order", () => {
  expect(canonicalJson([3, 1, 2])).toBe("[3,1,2]");
});

test("canonicalJson writes numbers in shortest form", () => {
  expect(canonicalJson({ n: 1.0, m: 1e21, k: 0.1 })).toBe(
    '{"k":0.1,"m":1e+21,"n":1}',
  );
});

test("canonicalJson escapes only what JSON requires", () => {
  expect(canonicalJson({ s: 'é😀\n"' })).toBe('{"s":"é😀\\n\\""}');
});

test("contentHash ignores key order and whitespace", () => {
  const a = JSON.parse('{"channel":"sms","text":"hi","to":"+1"}');
  const b = JSON.parse('{ "to" : "+1",\n "text":"hi", "channel":"sms" }');
  expect(contentHash(a)).toBe(contentHash(b));
});

test("contentHash differs when a value differs", () => {
  expect(contentHash({ text: "hi" })).not.toBe(contentHash({ text: "hi!" }));
});

test("contentHash is a full SHA-256 in hex", () => {
  expect(contentHash({})).toMatch(/^[0-9a-f]{64}$/);
  // SHA-256 of "{}"
  expect(contentHash({})).toBe(
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  );
});

test("canonicalJson rejects a value JSON cannot hold", () => {
  expect(() => canonicalJson(undefined)).toThrow(TypeError);
});

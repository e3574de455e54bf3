import { expect, test } from "vitest";
import { jsonDepth, MAX_JSON_DEPTH } from "../../app/ingest/json-depth";

const depthOf = (text: string) => jsonDepth(Buffer.from(text));

test("jsonDepth of scalars is zero", () => {
  expect(depthOf("1")).toBe(0);
  expect(depthOf('"text"')).toBe(0);
  expect(depthOf("")).toBe(0);
});

test("jsonDepth counts arrays and objects", () => {
  expect(depthOf("[]")).toBe(1);
  expect(depthOf('{"a":[{"b":[]}]}')).toBe(4);
  expect(depthOf("[[],[[]],[]]")).toBe(3);
});

test("jsonDepth ignores brackets in strings", () => {
  expect(depthOf('{"a":"[[[{{{"}')).toBe(1);
  expect(depthOf('["\\"[[["]')).toBe(1);
  expect(depthOf('["\\\\",[]]')).toBe(2);
});

test("jsonDepth stops past the limit", () => {
  const deep = "[".repeat(100_000);
  expect(jsonDepth(Buffer.from(deep))).toBe(MAX_JSON_DEPTH + 1);
  expect(jsonDepth(Buffer.from(deep), 5)).toBe(6);
});

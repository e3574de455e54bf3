import { expect, test } from "vitest";
import { clientIpOf } from "../../app/ingest/client-ip.server";

test("clientIpOf ignores X-Forwarded-For untrusted", () => {
  expect(clientIpOf("10.0.0.2", "203.0.113.7", false)).toBe("10.0.0.2");
});

test("clientIpOf takes first forwarded address", () => {
  expect(clientIpOf("10.0.0.2", " 203.0.113.7 , 10.0.0.1", true)).toBe(
    "203.0.113.7",
  );
});

test("clientIpOf falls back without header", () => {
  expect(clientIpOf("10.0.0.2", undefined, true)).toBe("10.0.0.2");
  expect(clientIpOf("10.0.0.2", " , 10.0.0.1", true)).toBe("10.0.0.2");
  expect(clientIpOf(undefined, undefined, false)).toBe("");
});

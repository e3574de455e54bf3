import { expect, test } from "vitest";
import { rejectionMessage } from "../support/verification";
import {
  basicAuthorization,
  verifyBasicAuth,
} from "../../app/ingest/providers/postmark.server";

const CREDENTIALS = "postmark:test-inbound-password";
const HEADER = basicAuthorization(CREDENTIALS);

test("valid credentials pass", () => {
  expect(HEADER).toBe("Basic cG9zdG1hcms6dGVzdC1pbmJvdW5kLXBhc3N3b3Jk");
  expect(verifyBasicAuth(CREDENTIALS, HEADER)).toEqual({ ok: true });
});

test("wrong password fails", () => {
  const header = basicAuthorization("postmark:wrong");
  expect(verifyBasicAuth(CREDENTIALS, header).ok).toBe(false);
});

test("missing header fails", () => {
  const result = verifyBasicAuth(CREDENTIALS, undefined);
  expect(rejectionMessage(result)).toContain("Authorization header is missing");
});

test("bearer scheme fails", () => {
  const header = HEADER.replace("Basic", "Bearer");
  expect(verifyBasicAuth(CREDENTIALS, header).ok).toBe(false);
});

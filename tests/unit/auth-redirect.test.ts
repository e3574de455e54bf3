import { expect, test } from "vitest";
import { loginPath, safeRedirectPath } from "../../app/auth/redirect";

test.each([
  ["/messages", "/messages"],
  ["/messages?q=a%20b#top", "/messages?q=a%20b#top"],
  ["/send/email", "/send/email"],
])("safeRedirectPath keeps %s", (value, expected) => {
  expect(safeRedirectPath(value)).toBe(expected);
});

test.each([
  ["https://evil.example/", "absolute URL"],
  ["//evil.example/path", "protocol-relative URL"],
  ["/\\evil.example", "backslash"],
  ["/\t/evil.example", "tab"],
  ["messages", "relative path"],
  ["javascript:alert(1)", "javascript URL"],
  ["/login", "login page"],
  ["/logout", "logout action"],
  ["", "empty string"],
])("safeRedirectPath rejects %s (%s)", (value) => {
  expect(safeRedirectPath(value)).toBe("/");
});

test("safeRedirectPath rejects non-strings", () => {
  expect(safeRedirectPath(null)).toBe("/");
  expect(safeRedirectPath(["/messages"])).toBe("/");
});

test("loginPath encodes the return path", () => {
  expect(loginPath("/messages?q=a&b=c")).toBe(
    "/login?redirectTo=%2Fmessages%3Fq%3Da%26b%3Dc",
  );
});

test("loginPath drops the root path", () => {
  expect(loginPath("/")).toBe("/login");
});

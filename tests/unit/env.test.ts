import { expect, test } from "vitest";
import { EnvError, parseEnv } from "../../app/env.server";

test("parseEnv applies defaults", () => {
  const env = parseEnv({});
  expect(env.PORT).toBe(3000);
  expect(env.DATA_DIR).toBe("./data");
  expect(env.BODY_LIMIT_BYTES).toBe(1024 * 1024);
  expect(env.DEDUP_WINDOW_HOURS).toBe(24);
  expect(env.DATABASE_URL).toBeUndefined();
  expect(env.ALLOW_UNSIGNED_WEBHOOKS).toBe(false);
});

test("parseEnv treats empty strings as unset", () => {
  const env = parseEnv({ DATABASE_URL: "", SENTRY_DSN: "" });
  expect(env.DATABASE_URL).toBeUndefined();
  expect(env.SENTRY_DSN).toBeUndefined();
});

test("parseEnv names every invalid variable", () => {
  let error: unknown;
  try {
    parseEnv({ PORT: "abc", DATABASE_URL: "mysql://x", TRUST_PROXY: "yes" });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(EnvError);
  const problems = (error as EnvError).problems.join("\n");
  expect(problems).toMatch(/^PORT: /m);
  expect(problems).toMatch(/^DATABASE_URL: must start with postgres/m);
  expect(problems).toMatch(/^TRUST_PROXY: /m);
});

test("parseEnv does not echo secret values", () => {
  let message = "";
  try {
    parseEnv({ RESEND_WEBHOOK_SECRET: "not-a-whsec-secret" });
  } catch (caught) {
    message = (caught as Error).message;
  }
  expect(message).toContain("RESEND_WEBHOOK_SECRET");
  expect(message).not.toContain("not-a-whsec-secret");
});

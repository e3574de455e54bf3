import { expect, test } from "vitest";
import { parseEnv } from "../../app/env.server";
import type { InboundRequest } from "../../app/ingest/http";
import { publicUrlOf } from "../../app/ingest/providers/twilio-signature.server";

function requestWith(
  target: string,
  headers: Record<string, string>,
): InboundRequest {
  return {
    method: "POST",
    url: new URL(target, `http://${headers.host ?? "localhost"}`),
    target,
    pathname: target.split("?")[0],
    header: (name) => headers[name],
    clientIp: "127.0.0.1",
    body: null,
    startedAt: 0,
    requestId: "test",
  };
}

const TARGET = "/api/webhooks/twilio/sms?note=it's";
const HEADERS = {
  host: "10.0.0.5:3000",
  "x-forwarded-proto": "https, http",
  "x-forwarded-host": "hooks.example.test, proxy.internal",
};

function envWith(values: Record<string, string>) {
  return parseEnv({ NODE_ENV: "test", ...values });
}

test("public url wins over headers", () => {
  const env = envWith({
    PUBLIC_URL: "https://inbox.example.com/",
    TRUST_PROXY: "true",
  });
  expect(publicUrlOf(requestWith(TARGET, HEADERS), env)).toBe(
    "https://inbox.example.com/api/webhooks/twilio/sms?note=it's",
  );
});

test("trusted proxy uses first forwarded values", () => {
  const env = envWith({ TRUST_PROXY: "true" });
  expect(publicUrlOf(requestWith(TARGET, HEADERS), env)).toBe(
    "https://hooks.example.test/api/webhooks/twilio/sms?note=it's",
  );
});

test("untrusted proxy headers are ignored", () => {
  const env = envWith({});
  expect(publicUrlOf(requestWith(TARGET, HEADERS), env)).toBe(
    "http://10.0.0.5:3000/api/webhooks/twilio/sms?note=it's",
  );
});

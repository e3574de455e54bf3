import { expect, test } from "vitest";
import {
  crossSiteRejection,
  type OriginCheckRequest,
} from "../../app/security/origin.server";

const NO_PROXY = { PUBLIC_URL: undefined, TRUST_PROXY: false };

function post(
  headers: Record<string, string>,
  path = "/users",
): OriginCheckRequest {
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    method: "POST",
    path,
    protocol: "http:",
    header: (name) => lower[name],
  };
}

test("same-origin POST passes", () => {
  const request = post({
    host: "inbox.test:3000",
    origin: "http://inbox.test:3000",
  });
  expect(crossSiteRejection(request, NO_PROXY)).toBeNull();
});

test("cross-site POST is rejected", () => {
  const request = post({ host: "inbox.test", origin: "http://evil.example" });
  expect(crossSiteRejection(request, NO_PROXY)).toMatch(/evil\.example/);
});

test("other scheme is rejected", () => {
  const request = post({ host: "inbox.test", origin: "https://inbox.test" });
  expect(crossSiteRejection(request, NO_PROXY)).not.toBeNull();
});

test("Referer is used without Origin", () => {
  const same = post({ host: "inbox.test", referer: "http://inbox.test/users" });
  const other = post({ host: "inbox.test", referer: "http://evil.example/x" });
  expect(crossSiteRejection(same, NO_PROXY)).toBeNull();
  expect(crossSiteRejection(other, NO_PROXY)).toMatch(/Referer/);
});

test("missing Origin and Referer is rejected", () => {
  const request = post({ host: "inbox.test" });
  expect(crossSiteRejection(request, NO_PROXY)).toMatch(/neither an Origin/);
});

test("Origin null is rejected", () => {
  const request = post({ host: "inbox.test", origin: "null" });
  expect(crossSiteRejection(request, NO_PROXY)).not.toBeNull();
});

test("GET passes without Origin", () => {
  const request = { ...post({ host: "inbox.test" }), method: "GET" };
  expect(crossSiteRejection(request, NO_PROXY)).toBeNull();
});

test("webhook POST passes without Origin", () => {
  const request = post({ host: "inbox.test" }, "/api/webhooks/twilio/sms");
  expect(crossSiteRejection(request, NO_PROXY)).toBeNull();
});

test("PUBLIC_URL counts as own origin", () => {
  const request = post({
    host: "10.0.0.5:3000",
    origin: "https://inbox.example.com",
  });
  const config = {
    PUBLIC_URL: "https://inbox.example.com/",
    TRUST_PROXY: false,
  };
  expect(crossSiteRejection(request, config)).toBeNull();
});

test("forwarded host counts only with TRUST_PROXY", () => {
  const request = post({
    host: "10.0.0.5:3000",
    origin: "https://inbox.example.com",
    "x-forwarded-host": "inbox.example.com",
    "x-forwarded-proto": "https",
  });
  expect(crossSiteRejection(request, NO_PROXY)).not.toBeNull();
  const trusted = { PUBLIC_URL: undefined, TRUST_PROXY: true };
  expect(crossSiteRejection(request, trusted)).toBeNull();
});

import { expect, test } from "vitest";
import {
  twilioSignature,
  verifyTwilioSignature,
  withToggledPort,
} from "../../app/ingest/providers/twilio-signature.server";

const TOKEN = "test_twilio_auth_token_00000000";
const URL = "https://hooks.example.test/api/webhooks/twilio/sms";
const PARAMS: [string, string][] = [
  ["To", "+15550000002"],
  ["From", "+15550000001"],
  ["Body", "Olá 👋"],
  ["MessageSid", "SM00000000000000000000000000000001"],
];
const SIGNATURE = twilioSignature(TOKEN, URL, PARAMS);

test("valid signature passes", () => {
  expect(verifyTwilioSignature(TOKEN, URL, PARAMS, SIGNATURE)).toBe(true);
});

test("known vector from the fixture", () => {
  const params = new URLSearchParams(
    "ToCountry=US&ToState=CA&SmsMessageSid=SM00000000000000000000000000000001&NumMedia=0&ToCity=&FromZip=00000&SmsSid=SM00000000000000000000000000000001&FromState=CA&SmsStatus=received&FromCity=SPRINGFIELD&Body=Hi+there%2C+is+my+order+ready%3F&FromCountry=US&To=%2B15550000002&MessagingServiceSid=MG00000000000000000000000000000000&ToZip=&NumSegments=1&MessageSid=SM00000000000000000000000000000001&AccountSid=AC00000000000000000000000000000000&From=%2B15550000001&ApiVersion=2010-04-01",
  );
  expect(twilioSignature(TOKEN, URL, params)).toBe(
    "vQOc1AcwRWdlWQoFtXnHlzezpSE=",
  );
});

test("param order does not matter", () => {
  const reversed = [...PARAMS].reverse();
  expect(verifyTwilioSignature(TOKEN, URL, reversed, SIGNATURE)).toBe(true);
});

test("changed body value fails", () => {
  const changed = PARAMS.map(([name, value]): [string, string] =>
    name === "Body" ? [name, "Ola"] : [name, value],
  );
  expect(verifyTwilioSignature(TOKEN, URL, changed, SIGNATURE)).toBe(false);
});

test("added param fails", () => {
  const added: [string, string][] = [...PARAMS, ["NumMedia", "0"]];
  expect(verifyTwilioSignature(TOKEN, URL, added, SIGNATURE)).toBe(false);
});

test("other path fails", () => {
  const url = "https://hooks.example.test/api/webhooks/twilio/whatsapp";
  expect(verifyTwilioSignature(TOKEN, url, PARAMS, SIGNATURE)).toBe(false);
});

test("http scheme fails", () => {
  const url = URL.replace("https:", "http:");
  expect(verifyTwilioSignature(TOKEN, url, PARAMS, SIGNATURE)).toBe(false);
});

test("explicit default port passes", () => {
  const url = "https://hooks.example.test:443/api/webhooks/twilio/sms";
  expect(verifyTwilioSignature(TOKEN, url, PARAMS, SIGNATURE)).toBe(true);
});

test("signed with port, received without", () => {
  const signedUrl = "https://hooks.example.test:443/api/webhooks/twilio/sms";
  const signature = twilioSignature(TOKEN, signedUrl, PARAMS);
  expect(verifyTwilioSignature(TOKEN, URL, PARAMS, signature)).toBe(true);
});

test("other port fails", () => {
  const url = "https://hooks.example.test:8443/api/webhooks/twilio/sms";
  expect(verifyTwilioSignature(TOKEN, url, PARAMS, SIGNATURE)).toBe(false);
});

test("re-encoded query fails", () => {
  const signedUrl = `${URL}?note=it's`;
  const signature = twilioSignature(TOKEN, signedUrl, PARAMS);
  const reencoded = `${URL}?note=it%27s`;
  expect(verifyTwilioSignature(TOKEN, reencoded, PARAMS, signature)).toBe(
    false,
  );
});

test("other auth token fails", () => {
  expect(verifyTwilioSignature("other_token", URL, PARAMS, SIGNATURE)).toBe(
    false,
  );
});

test("truncated signature fails", () => {
  expect(
    verifyTwilioSignature(TOKEN, URL, PARAMS, SIGNATURE.slice(0, -2)),
  ).toBe(false);
});

test("port toggle keeps path and query", () => {
  expect(withToggledPort("http://a.test/x?y=1")).toBe("http://a.test:80/x?y=1");
  expect(withToggledPort("https://a.test:443/x")).toBe("https://a.test/x");
  expect(withToggledPort("https://a.test:8443/x")).toBeNull();
});

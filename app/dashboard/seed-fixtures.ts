import type { Channel, Outcome } from "~/ingest/message";

// Sample values for the generated traffic of seed.server.ts.

export const PROVIDERS: Record<Channel, readonly string[]> = {
  email: ["sendgrid", "mailgun", "postmark", "resend", "test"],
  whatsapp: ["meta", "twilio", "test"],
  sms: ["twilio", "test"],
};

export const PROVIDER_PATHS: Record<string, string> = {
  sendgrid: "/api/webhooks/sendgrid/email",
  mailgun: "/api/webhooks/mailgun/email",
  postmark: "/api/webhooks/postmark/email",
  resend: "/api/webhooks/resend/email",
  meta: "/api/webhooks/meta/whatsapp",
  twilio: "/api/webhooks/twilio/sms",
  test: "/api/webhooks/test-multichannel",
};

/** The channel of each provider route above; the test endpoint takes any. */
export const PROVIDER_CHANNELS: Record<string, Channel | null> = {
  sendgrid: "email",
  mailgun: "email",
  postmark: "email",
  resend: "email",
  meta: "whatsapp",
  twilio: "sms",
  test: null,
};

export const FIRST_NAMES = [
  "ana",
  "ben",
  "chloe",
  "dev",
  "emma",
  "farid",
  "grace",
];
export const DOMAINS = ["example.com", "example.org", "mail.example.net"];
export const SUBJECTS = [
  "Order {n} arrived damaged",
  "Refund for invoice {n}",
  "Cannot log in to my account",
  "Question about plan upgrade",
  "Delivery address change for order {n}",
  "Re: ticket {n}",
];
export const TEXTS = [
  "Hello, the box was crushed. Can you send a new one?",
  "Is the store open on Sunday?",
  "Your code is {n}",
  "Thanks, that fixed it!",
  "Please call me back at 5 pm, order {n}.",
  "Where is my parcel? Tracking says delivered.",
  "STOP",
];

export interface FailureKind {
  outcome: Outcome;
  status: number;
  errorMessage: string;
  excerpt: string | null;
  contentType: string | null;
}

export const FAILURE_KINDS: readonly FailureKind[] = [
  {
    outcome: "invalid",
    status: 400,
    errorMessage:
      "Body is not valid UTF-8 JSON: Expected property name or '}' in JSON at position 1",
    excerpt: "{channel: sms, from: +14155550100}",
    contentType: "application/json",
  },
  {
    outcome: "invalid",
    status: 400,
    errorMessage:
      "Payload is invalid. from: must be an E.164 number such as +14155550100",
    excerpt:
      '{"channel":"sms","from":"0415 555 0100","to":"+14155550199","text":"hi"}',
    contentType: "application/json",
  },
  {
    outcome: "unauthorized",
    status: 401,
    errorMessage:
      "Signature is invalid: X-Twilio-Signature does not match the request",
    excerpt: "ToCountry=US&SmsSid=SM0000&Body=Hello",
    contentType: "application/x-www-form-urlencoded",
  },
  {
    outcome: "unsupported_media_type",
    status: 415,
    errorMessage:
      'Content-Type must be application/json, got "text/plain". Send the body as JSON with the header Content-Type: application/json.',
    excerpt: "hello",
    contentType: "text/plain",
  },
  {
    outcome: "too_large",
    status: 413,
    errorMessage: "Body is larger than the limit of 1048576 bytes",
    excerpt: null,
    contentType: "application/json",
  },
  {
    outcome: "not_found",
    status: 404,
    errorMessage: "No webhook route matches /api/webhooks/twilo/sms",
    excerpt: null,
    contentType: "application/x-www-form-urlencoded",
  },
  {
    outcome: "method_not_allowed",
    status: 405,
    errorMessage: "Method PUT is not allowed; use POST",
    excerpt: null,
    contentType: null,
  },
  {
    outcome: "rate_limited",
    status: 429,
    errorMessage: "Too many requests from 203.0.113.7; retry after 12 s",
    excerpt: null,
    contentType: "application/json",
  },
  {
    outcome: "unavailable",
    status: 503,
    errorMessage: "Database is unreachable; retry after 5 s",
    excerpt: null,
    contentType: "application/json",
  },
];

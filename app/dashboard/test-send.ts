import type { PayloadIssue } from "~/ingest/test-payload";

/** The buttons of the test-send form, sent as the `intent` field. */
export const SEND_INTENTS = ["send", "again", "new-id"] as const;
export type SendIntent = (typeof SEND_INTENTS)[number];

/** How long the test-send action waits for the webhook endpoint. */
export const SEND_TIMEOUT_MS = 10_000;

/** The outcome of one test-send form submission, as the page shows it. */
export type TestSendResult =
  | {
      kind: "invalid";
      /** The JSON text to show in the form again. */
      json: string;
      issues: PayloadIssue[];
    }
  | {
      kind: "sent";
      json: string;
      status: number;
      statusText: string;
      /** The response body, pretty-printed when it is JSON. */
      body: string;
      roundTripMs: number;
      /** `latencyMs` from a 201 body: the time the server spent. */
      serverLatencyMs: number | null;
      /** The stored message on 201, or the original one on 409. */
      messageId: string | null;
    }
  | { kind: "failed"; json: string; error: string };

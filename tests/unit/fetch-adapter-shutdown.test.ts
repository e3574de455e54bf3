import { afterEach, expect, test } from "vitest";
import { handleFetchWebhook } from "../../app/ingest/fetch-adapter.server";

afterEach(() => {
  globalThis.__webhookInboxStopping = undefined;
});

test("webhook during shutdown gets 503", async () => {
  // Set by the app's signal handler under remix-serve; getApp then rejects
  // without opening a database.
  globalThis.__webhookInboxStopping = true;
  const response = await handleFetchWebhook(
    new Request("http://127.0.0.1/api/webhooks/test-multichannel", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "late-1" },
      body: "{}",
    }),
    "127.0.0.1",
  );
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  expect(response.headers.get("x-request-id")).toBe("late-1");
  const body = await response.json();
  expect(body.error).toBe("unavailable");
  expect(body.message).toMatch(/shutting down; retry after 5 seconds/);
});

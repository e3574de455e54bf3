import { expect, test } from "@playwright/test";
import { signIn } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";

let db: TestDatabase;
let server: RunningServer;

test.beforeAll(async () => {
  db = await createTestDatabase("e2e_send_provider");
  server = await startServer({
    DATABASE_URL: db.url,
    TWILIO_AUTH_TOKEN: "e2e_twilio_auth_token_000000000",
  });
});

test.afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

test("signed twilio sms is stored", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/provider`);
  await page.getByLabel("Endpoint").selectOption("twilio/sms");
  await page.getByRole("button", { name: "Load example" }).click();
  const payload = page.getByLabel(/Payload for/);
  await expect(payload).toHaveValue(/MessageSid=SM[0-9a-f]{32}/);
  const sid = /MessageSid=(SM[0-9a-f]{32})/.exec(
    await payload.inputValue(),
  )![1];

  await page.getByRole("button", { name: "Sign and send" }).click();

  await expect(page.getByTestId("send-status")).toHaveText("200");
  await expect(page.getByText("<Response/>")).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: "accepted" });
  await expect(row).toContainText("+15550000001");
  await expect(row).toContainText("Hi there, is my order ready?");

  const { rows } = await db.pool.query(
    "SELECT sender, recipient, provider FROM message WHERE dedup_key = $1",
    [`twilio:${sid}`],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].provider).toBe("twilio");
  expect(rows[0].recipient).toBe("+15550000002");
});

test("unknown provider route shows 404", async ({ page }) => {
  await signIn(page, server, db, "developer");
  const response = await page.goto(`${server.url}/send/provider?route=bogus/x`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText(/No provider route "bogus\/x"/)).toBeVisible();
  await expect(page.getByText(/twilio\/sms/)).toBeVisible();
});

test("provider replay links stored copy", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/provider`);
  await page.getByLabel("Endpoint").selectOption("twilio/sms");
  await page.getByRole("button", { name: "Load example" }).click();
  await page.getByRole("button", { name: "Sign and send" }).click();
  await expect(page.getByTestId("send-status")).toHaveText("200");
  // Read after sending, because the form keeps the body it sent while
  // "Load example" may still be replacing it before the click.
  const sid = /MessageSid=(SM[0-9a-f]{32})/.exec(
    await page.getByLabel(/Payload for/).inputValue(),
  )![1];
  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message WHERE dedup_key = $1",
    [`twilio:${sid}`],
  );
  expect(rows).toHaveLength(1);
  const originalId = rows[0].id;

  await page.goto(`${server.url}/messages/${originalId}`);
  await page.getByRole("button", { name: "Replay as new message" }).click();
  const result = page.getByRole("status");
  await expect(result).toContainText("HTTP 200");
  const { rows: copies } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message WHERE replay_of_id = $1",
    [originalId],
  );
  expect(copies).toHaveLength(1);
  await expect(
    result.getByRole("link", { name: `message ${copies[0].id}` }),
  ).toBeVisible();
});

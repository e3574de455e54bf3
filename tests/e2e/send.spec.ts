import { expect, test, type Page } from "@playwright/test";
import { signIn } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";

let db: TestDatabase;
let server: RunningServer;

test.beforeAll(async () => {
  db = await createTestDatabase("send_e2e");
  server = await startServer({ DATABASE_URL: db.url });
});

test.afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

function statusOf(page: Page) {
  return page
    .getByRole("region", { name: "Response" })
    .getByRole("definition")
    .first();
}

async function storedId(page: Page, name: string): Promise<string> {
  const href = await page.getByRole("link", { name }).getAttribute("href");
  const id = /^\/messages\/([0-9a-f-]{36})$/.exec(href ?? "")?.[1];
  if (!id) throw new Error(`link ${name} has no message id: ${href}`);
  return id;
}

for (const channel of ["email", "whatsapp", "sms"] as const) {
  test(`${channel} send, again and new id`, async ({ page }) => {
    await signIn(page, server, db, "developer");
    await page.goto(`${server.url}/send/${channel}`);
    await expect(page.getByLabel("Payload JSON")).toContainText(
      `"channel": "${channel}"`,
    );

    await page.getByRole("button", { name: "Send", exact: true }).click();
    await expect(statusOf(page)).toHaveText("201 Created");
    const first = await storedId(page, "Open the stored message");

    await page.getByRole("button", { name: "Send again" }).click();
    await expect(statusOf(page)).toHaveText("409 Conflict");
    expect(await storedId(page, "Open the original message")).toBe(first);

    await page.getByRole("button", { name: "New message id" }).click();
    await expect(statusOf(page)).toHaveText("201 Created");
    const second = await storedId(page, "Open the stored message");
    expect(second).not.toBe(first);
    await expect(page.getByLabel("Payload JSON")).toHaveValue(
      new RegExp(`"messageId": "${channel}-[0-9a-f-]{36}"`),
    );
    await expect(page.getByText("Server latency")).toBeVisible();

    await page.screenshot({
      path: `test-results/screenshots/send-${channel}.png`,
      fullPage: true,
    });
  });
}

test("empty payload asks for one", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/sms`);
  await page.getByLabel("Payload JSON").fill("");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText(
    "is empty: load the example or paste a JSON payload",
  );
  await expect(page.getByRole("region", { name: "Response" })).toHaveCount(0);
});

test("invalid JSON shows inline error", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/sms`);
  await page.getByLabel("Payload JSON").fill('{"channel": "sms",');
  await page.getByRole("button", { name: "Send", exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("(root)");
  await expect(alert).toContainText("is not valid JSON");
  await expect(page.getByLabel("Payload JSON")).toHaveAttribute(
    "aria-invalid",
    "true",
  );
  await expect(page.getByRole("region", { name: "Response" })).toHaveCount(0);
  await page.screenshot({
    path: "test-results/screenshots/send-invalid-json.png",
    fullPage: true,
  });
});

test("schema error shows the path", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/whatsapp`);
  await page.getByLabel("Payload JSON").fill(
    JSON.stringify({
      channel: "whatsapp",
      from: "0044",
      to: "+14155550199",
      media: [{ url: "not a url", contentType: "image/jpeg" }],
    }),
  );
  await page.getByRole("button", { name: "Send", exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("from must be an E.164 number");
  await expect(alert).toContainText(
    "media[0].url must be an absolute http or https URL",
  );
  await page.screenshot({
    path: "test-results/screenshots/send-schema-error.png",
    fullPage: true,
  });
});

test("tabs link the send pages", async ({ page }) => {
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/email`);
  const tabs = page.getByRole("navigation", { name: "Test-send pages" });
  await expect(tabs.getByRole("link", { name: "Email" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  await expect(
    tabs.getByRole("link", { name: "Provider webhooks" }),
  ).toHaveAttribute("href", "/send/provider");
  await tabs.getByRole("link", { name: "SMS" }).click();
  await expect(page).toHaveURL(/\/send\/sms$/);
  await expect(page.getByLabel("Payload JSON")).toContainText(
    '"channel": "sms"',
  );
});

test("send works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/email`);
  await page.getByLabel("Payload JSON").fill(
    JSON.stringify({
      channel: "email",
      from: "ana@example.com",
      to: "support@example.com",
      subject: "No script",
      text: "Sent by a plain form post",
      messageId: "email-no-js-1",
    }),
  );
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(statusOf(page)).toHaveText("201 Created");
  await page.getByRole("button", { name: "Send again" }).click();
  await expect(statusOf(page)).toHaveText("409 Conflict");
  await context.close();
});

test("unknown channel returns 404", async ({ page }) => {
  await signIn(page, server, db, "developer");
  const response = await page.goto(`${server.url}/send/fax`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText("No test-send page for channel")).toBeVisible();
});

test("send page fits a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, server, db, "developer");
  await page.goto(`${server.url}/send/sms`);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(statusOf(page)).toHaveText(/^(201 Created|409 Conflict)$/);
  const scrollWidth = await page.evaluate(
    () => document.documentElement.scrollWidth,
  );
  expect(scrollWidth).toBeLessThanOrEqual(390);
  await page.screenshot({
    path: "test-results/screenshots/send-phone.png",
    fullPage: true,
  });
});

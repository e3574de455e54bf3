import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { seedDatabase } from "../../app/dashboard/seed.server";
import { signIn } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor, type RunningServer } from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";
const SCREENSHOT_DIR = "test-results/screenshots";

let db: TestDatabase;
let server: RunningServer;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  db = await createTestDatabase("browse_e2e");
  server = await startServer({ DATABASE_URL: db.url });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

test.afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

test.beforeEach(async ({ page }) => {
  await signIn(page, server, db, "developer");
});

async function post(body: unknown): Promise<Response> {
  return fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function postStored(body: unknown): Promise<string> {
  const response = await post(body);
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  return id;
}

async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** Waits until the request record of a message was written. */
async function waitForRecord(where: string, value: string) {
  await waitFor(async () => {
    const { rows } = await db.pool.query(
      `SELECT 1 FROM request_record WHERE ${where} = $1`,
      [value],
    );
    return rows.length > 0 ? true : undefined;
  });
}

const tag = randomUUID().slice(0, 8);
const MESSAGES = {
  email: {
    channel: "email",
    from: "ana@example.com",
    to: ["support@example.com"],
    subject: `Email ${tag} arrived damaged`,
    text: `email body ${tag}`,
    messageId: `e2e-email-${tag}`,
  },
  whatsapp: {
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550199",
    text: `whatsapp body ${tag}`,
    media: [
      { url: "https://example.com/photo.jpg", contentType: "image/jpeg" },
    ],
    messageId: `e2e-wa-${tag}`,
  },
  sms: {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: `sms body ${tag}`,
    messageId: `e2e-sms-${tag}`,
  },
} as const;
const ids: Record<string, string> = {};

test("empty log shows how to send", async ({ page }, testInfo) => {
  await page.goto(server.url + "/messages");
  await expect(
    page.getByRole("heading", { name: "No messages yet" }),
  ).toBeVisible();
  await expect(page.getByText("curl -X POST")).toBeVisible();
  await screenshot(page, testInfo, "messages-empty");
});

test("each channel appears in the log", async ({ page }, testInfo) => {
  for (const [channel, body] of Object.entries(MESSAGES))
    ids[channel] = await postStored(body);
  await page.goto(server.url + "/messages");
  for (const body of Object.values(MESSAGES)) {
    await expect(
      page.getByRole("row", { name: new RegExp(body.text) }),
    ).toBeVisible();
  }
  await screenshot(page, testInfo, "messages");
});

test("detail shows normalized fields", async ({ page }, testInfo) => {
  await waitForRecord("message_id", ids.whatsapp);
  await page.goto(server.url + "/messages");
  await page
    .getByRole("row", { name: new RegExp(MESSAGES.whatsapp.text) })
    .getByRole("link")
    .click();
  await expect(page).toHaveURL(new RegExp(`/messages/${ids.whatsapp}$`));
  await expect(page.getByText(`Message ${ids.whatsapp}`)).toBeVisible();
  await expect(page.getByText("+14155550199", { exact: true })).toBeVisible();
  await expect(
    page.getByText("https://example.com/photo.jpg (image/jpeg)"),
  ).toBeVisible();
  const timeline = page.getByRole("table", {
    name: "Requests that carried this message",
  });
  await expect(timeline.getByRole("row")).toHaveCount(2);
  await expect(timeline.getByRole("cell", { name: "accepted" })).toBeVisible();
  await expect(timeline.getByRole("cell", { name: "201" })).toBeVisible();

  await page.getByText("Payload", { exact: true }).click();
  await expect(page.getByText(`"messageId": "e2e-wa-${tag}"`)).toBeVisible();
  await screenshot(page, testInfo, "message-detail");
});

test("email and sms details open", async ({ page }) => {
  for (const channel of ["email", "sms"] as const) {
    await page.goto(server.url + "/messages");
    await page
      .getByRole("row", { name: new RegExp(MESSAGES[channel].text) })
      .getByRole("link")
      .click();
    await expect(page).toHaveURL(new RegExp(`/messages/${ids[channel]}$`));
    await expect(
      page.getByText(MESSAGES[channel].text, { exact: true }),
    ).toBeVisible();
  }
});

test("duplicate links to its original", async ({ page }, testInfo) => {
  const response = await post(MESSAGES.sms);
  expect(response.status).toBe(409);
  await waitForRecord("duplicate_of_id", ids.sms);

  await page.goto(server.url + "/duplicates");
  const rates = page.getByRole("table", { name: "Duplicate rate per channel" });
  await expect(rates.getByRole("row", { name: /sms/ })).toContainText("1");
  await page
    .getByRole("link", { name: `Original message ${ids.sms}` })
    .first()
    .click();
  await expect(page).toHaveURL(new RegExp(`/messages/${ids.sms}$`));
  const timeline = page.getByRole("table", {
    name: "Requests that carried this message",
  });
  await expect(timeline.getByRole("cell", { name: "duplicate" })).toBeVisible();
  await expect(timeline.getByRole("cell", { name: "409" })).toBeVisible();
  await page.goto(server.url + "/duplicates");
  await screenshot(page, testInfo, "duplicates");
});

test("replay unchanged shows 409", async ({ page }) => {
  await page.goto(`${server.url}/messages/${ids.email}`);
  await page.getByRole("button", { name: "Replay unchanged" }).click();
  const result = page.getByRole("status");
  await expect(result).toContainText("HTTP 409");
  await expect(result).toContainText('"error": "duplicate"');
});

test("replay as new links the original", async ({ page }, testInfo) => {
  await page.goto(`${server.url}/messages/${ids.email}`);
  await page.getByRole("button", { name: "Replay as new message" }).click();
  const result = page.getByRole("status");
  await expect(result).toContainText("HTTP 201");
  await screenshot(page, testInfo, "replay");
  await result.getByRole("link", { name: /^message / }).click();
  await expect(page).not.toHaveURL(new RegExp(`/messages/${ids.email}$`));
  await expect(
    page.getByRole("link", { name: ids.email, exact: true }),
  ).toBeVisible();

  await page.getByRole("link", { name: ids.email, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/messages/${ids.email}$`));
  const replays = page.getByRole("region", { name: "Replays of this message" });
  await expect(replays.getByRole("link")).toHaveCount(1);
});

test("search and filter the log", async ({ page }, testInfo) => {
  await page.goto(server.url + "/messages");
  await page.getByLabel("Search").fill(tag);
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/q=/);
  await expect(page).toHaveURL(/channel=sms/);
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText(MESSAGES.sms.text);
  await screenshot(page, testInfo, "messages-filtered");

  await page.getByLabel("Search").fill(`no-such-text-${tag}`);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(
    page.getByRole("heading", { name: "No messages match these filters" }),
  ).toBeVisible();
  await expect(page.getByText(`channel sms`)).toBeVisible();
});

test("new message appears without reload", async ({ page }) => {
  await page.goto(server.url + "/messages");
  const text = `live ${tag}`;
  await expect(page.getByRole("row", { name: new RegExp(text) })).toHaveCount(
    0,
  );
  await postStored({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text,
  });
  await expect(page.getByRole("row", { name: new RegExp(text) })).toBeVisible({
    timeout: 15_000,
  });
});

test("failed request shows its cause", async ({ page }, testInfo) => {
  const response = await post('{"channel": "sms", <b>broken');
  expect(response.status).toBe(400);
  await waitFor(async () => {
    const { rows } = await db.pool.query(
      "SELECT 1 FROM request_record WHERE outcome = 'invalid'",
    );
    return rows.length > 0 ? true : undefined;
  });

  await page.goto(server.url + "/failures");
  const row = page.getByRole("row", { name: /Body is not valid UTF-8 JSON/ });
  await expect(row).toBeVisible();
  await expect(row).toContainText("400");
  await expect(row).toContainText("invalid");
  // The excerpt is shown as text, so the markup in the body stays visible.
  await expect(row).toContainText("<b>broken");

  await page.getByLabel("Outcome").selectOption("too_large");
  await page.getByRole("button", { name: "Apply filter" }).click();
  await expect(page).toHaveURL(/outcome=too_large/);
  await expect(
    page.getByRole("heading", {
      name: "No failed requests with outcome too_large",
    }),
  ).toBeVisible();

  await page.goto(server.url + "/failures");
  await screenshot(page, testInfo, "failures");
});

test("log pages through older messages", async ({ page }, testInfo) => {
  await seedDatabase(db.pool, { count: 120 });
  await page.goto(server.url + "/messages");
  const rows = page.getByRole("table").getByRole("row");
  // A header row plus one page of 50 messages.
  await expect(rows).toHaveCount(51);
  const firstRow = await rows.nth(1).textContent();

  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/before=/);
  await expect(rows).toHaveCount(51);
  expect(await rows.nth(1).textContent()).not.toBe(firstRow);
  await screenshot(page, testInfo, "messages-older");

  await page.getByRole("link", { name: "Older →" }).click();
  await expect(rows.nth(1)).toBeVisible();
  await expect(page.getByRole("link", { name: "Older →" })).toHaveCount(0);

  await page.getByRole("link", { name: "← Newer" }).click();
  await page.getByRole("link", { name: "← Newer" }).click();
  await expect(page.getByRole("link", { name: "← Newer" })).toHaveCount(0);
  expect(await rows.nth(1).textContent()).toBe(firstRow);
});

test("overview shows counts and newest", async ({ page }, testInfo) => {
  await page.goto(server.url + "/");
  const stats = page.getByRole("table", {
    name: "Requests per channel, last 24 hours",
  });
  await expect(stats.getByRole("row", { name: /sms/ })).toBeVisible();
  await expect(stats.getByRole("columnheader", { name: "p95" })).toBeVisible();
  await expect(
    page.getByRole("table", { name: "Newest messages" }).getByRole("row"),
  ).toHaveCount(9);
  await screenshot(page, testInfo, "overview");
});

test("unknown message id shows 404", async ({ page }) => {
  const response = await page.goto(
    `${server.url}/messages/00000000-0000-4000-8000-000000000000`,
  );
  expect(response?.status()).toBe(404);
  await expect(page.getByText(/No message has the id/)).toBeVisible();
  const malformed = await page.goto(`${server.url}/messages/not-an-id`);
  expect(malformed?.status()).toBe(404);
});

test("invalid filter shows 400", async ({ page }) => {
  const response = await page.goto(`${server.url}/messages?channel=fax`);
  expect(response?.status()).toBe(400);
  await expect(
    page.getByText(/channel must be one of email, whatsapp, sms/),
  ).toBeVisible();

  const nul = await page.goto(`${server.url}/messages?q=a%00b`);
  expect(nul?.status()).toBe(400);
  await expect(page.getByText(/q contains a NUL character/)).toBeVisible();

  const cursor = await page.goto(`${server.url}/failures?before=yesterday`);
  expect(cursor?.status()).toBe(400);
  await expect(
    page.getByText(/before is not a valid page cursor/),
  ).toBeVisible();
});

test("media link allows only http", async ({ page }) => {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO message (id, channel, provider, dedup_key, dedup_kind, sender,
       recipient, text_preview, payload, headers, media)
     VALUES ($1, 'whatsapp', 'meta', $2, 'id', '+14155550100', '+14155550199',
       'media', '{}', '{}', $3)`,
    [
      id,
      `id:${id}`,
      JSON.stringify([
        { url: "javascript:alert(1)", contentType: "image/png" },
        { url: "https://example.com/a.png", contentType: "image/png" },
      ]),
    ],
  );
  await page.goto(`${server.url}/messages/${id}`);
  const media = page.getByRole("region", { name: "Media and attachments" });
  await expect(media.getByRole("listitem")).toHaveCount(2);
  await expect(media.getByRole("link", { name: "open" })).toHaveCount(1);
  await expect(media.getByRole("link", { name: "open" })).toHaveAttribute(
    "href",
    "https://example.com/a.png",
  );
});

test("forms work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server, db, "developer");

  await page.goto(server.url + "/messages");
  await page.getByLabel("Search").fill(MESSAGES.whatsapp.text);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/q=whatsapp/);
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows).toHaveCount(2);

  await page.goto(`${server.url}/messages/${ids.whatsapp}`);
  await page.getByRole("button", { name: "Replay unchanged" }).click();
  await expect(page.getByRole("status")).toContainText("HTTP 409");
  await context.close();
});

test("log is usable on a phone", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url + "/messages");
  await expect(page.getByLabel("Search")).toBeVisible();
  const width = await page.evaluate(() => document.body.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  // Phones show the sender column but hide recipient and provider.
  await expect(page.getByRole("columnheader", { name: "From" })).toBeVisible();
  await expect(page.getByRole("columnheader", { name: "To" })).toBeHidden();
  await screenshot(page, testInfo, "messages-phone");
});

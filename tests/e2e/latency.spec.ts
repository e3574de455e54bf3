import { expect, test } from "@playwright/test";
import { LATENCY_BUCKET_COUNT } from "../../app/ingest/latency-histogram";
import { signIn } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";

let db: TestDatabase;
let server: RunningServer;

/** Inserts one minute of statistics `minutesAgo` before now. */
async function seedMinute(
  minutesAgo: number,
  channel: string,
  hist: Record<number, number>,
  duplicate = 0,
): Promise<void> {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const [index, count] of Object.entries(hist)) {
    counts[Number(index)] = count;
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  await db.pool.query(
    `INSERT INTO request_stats_minute (bucket, channel, total, accepted,
       duplicate, rejected, latency_sum_ms, latency_hist)
     VALUES (date_trunc('minute', now()) - make_interval(mins => $1),
       $2, $3, $4, $5, 0, $6, $7)`,
    [
      minutesAgo,
      channel,
      total,
      total - duplicate,
      duplicate,
      total * 2,
      counts,
    ],
  );
}

test.beforeAll(async () => {
  db = await createTestDatabase("latency_e2e");
  server = await startServer({ DATABASE_URL: db.url });
  for (let minute = 2; minute <= 20; minute += 3) {
    await seedMinute(minute, "email", { 10: 20, 15: 5, 25: 1 }, 2);
    await seedMinute(minute, "sms", { 8: 10, 20: 1 });
  }
  await seedMinute(5 * 60, "whatsapp", { 12: 30, 30: 2 }, 3);
  await seedMinute(3 * 24 * 60, "email", { 14: 8 });
});

test.afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

for (const range of ["1h", "24h", "7d"] as const) {
  test(`latency chart renders for ${range}`, async ({ page }) => {
    await signIn(page, server, db, "viewer");
    await page.goto(`${server.url}/latency?range=${range}`);
    await expect(
      page.getByRole("heading", { name: "Latency", level: 1 }),
    ).toBeVisible();

    const latency = page.getByRole("figure", { name: "Ingest latency (ms)" });
    await expect(latency).toBeVisible();
    const curves = latency.locator("path.recharts-curve");
    await expect(curves).toHaveCount(3);
    const path = await curves.first().getAttribute("d");
    expect(path ?? "").toMatch(/^M[\d.]+,[\d.]+/);
    expect(await latency.locator(".recharts-dot").count()).toBeGreaterThan(0);
    await expect(
      latency.getByText("Latency (ms)", { exact: true }),
    ).toBeVisible();

    const throughput = page.getByRole("figure", {
      name: "Throughput (requests per minute)",
    });
    expect(
      await throughput.locator(".recharts-bar-rectangle path").count(),
    ).toBeGreaterThan(0);
    await expect(
      throughput.getByText("Throughput (req/min)", { exact: true }),
    ).toBeVisible();

    const duplicates = page.getByRole("figure", {
      name: "Duplicate rate (% of requests)",
    });
    await expect(duplicates.locator("path.recharts-curve")).toHaveCount(1);
    await expect(
      duplicates.getByText("Duplicates (%)", { exact: true }),
    ).toBeVisible();

    await expect(
      page.getByRole("figure", { name: "p95 latency by channel (ms)" }),
    ).toBeVisible();

    const table = page.getByRole("table");
    await expect(
      table.getByRole("columnheader", { name: "p95 (ms)" }),
    ).toBeVisible();
    expect(await table.getByRole("row").count()).toBeGreaterThan(1);

    await page.screenshot({
      path: `test-results/screenshots/latency-${range}.png`,
      fullPage: true,
    });
  });
}

test("range and channel filters go in the URL", async ({ page }) => {
  await signIn(page, server, db, "viewer");
  await page.goto(`${server.url}/latency`);
  await page.getByLabel("Range").selectOption("24h");
  await page.getByLabel("Channel").selectOption("whatsapp");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/range=24h/);
  await expect(page).toHaveURL(/channel=whatsapp/);
  const table = page.getByRole("table");
  // The whatsapp minute 5 hours ago is the only row.
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table.getByRole("cell").first()).toHaveText("32");
  await page.screenshot({
    path: "test-results/screenshots/latency.png",
    fullPage: true,
  });
});

test("empty range shows the empty state", async ({ page }) => {
  await signIn(page, server, db, "viewer");
  await page.goto(`${server.url}/latency?range=1h&channel=whatsapp`);
  await expect(
    page.getByRole("heading", { name: "No requests in this range" }),
  ).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  await expect(page.getByRole("figure")).toHaveCount(0);
  await page.screenshot({
    path: "test-results/screenshots/latency-empty.png",
    fullPage: true,
  });
});

test("invalid range returns 400", async ({ page }) => {
  await signIn(page, server, db, "viewer");
  const response = await page.goto(`${server.url}/latency?range=2h`);
  expect(response?.status()).toBe(400);
  await expect(
    page.getByText("range must be one of 1h, 24h, 7d"),
  ).toBeVisible();
});

test("table renders without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server, db, "viewer");
  await page.goto(`${server.url}/latency?range=1h&channel=sms`);
  const table = page.getByRole("table");
  await expect(table.getByRole("row")).toHaveCount(8);
  await expect(page.getByText("The charts need JavaScript")).toBeVisible();
  await context.close();
});

test("latency page fits a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, server, db, "viewer");
  await page.goto(`${server.url}/latency?range=24h`);
  await expect(
    page.getByRole("figure", { name: "Ingest latency (ms)" }),
  ).toBeVisible();
  const scrollWidth = await page.evaluate(
    () => document.documentElement.scrollWidth,
  );
  expect(scrollWidth).toBeLessThanOrEqual(390);
  await page.screenshot({
    path: "test-results/screenshots/latency-phone.png",
    fullPage: true,
  });
});

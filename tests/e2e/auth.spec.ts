import { expect, test } from "@playwright/test";
import { createTestUser, signIn } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";

let db: TestDatabase;
let server: RunningServer;

test.beforeAll(async () => {
  db = await createTestDatabase("e2e_auth");
  server = await startServer({ DATABASE_URL: db.url });
});

test.afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

test("login form shows the nav with email and role", async ({ page }) => {
  const user = await createTestUser(db, "admin");
  await page.goto(`${server.url}/users`);
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fusers$/);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${server.url}/users`);
  const header = page.getByRole("banner");
  await expect(header).toContainText(user.email);
  await expect(header).toContainText("(admin)");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Test send" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toBeVisible();
});

test("developer sees Test send but not Users", async ({ page }) => {
  await signIn(page, server, db, "developer");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Test send" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(page.getByRole("banner")).toContainText("(developer)");
});

test("wrong password shows an inline error", async ({ page }) => {
  const user = await createTestUser(db, "viewer");
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "The email or password is wrong. Check both and try again.",
  );
  await expect(page).toHaveURL(/\/login/);
});

test("viewer sees no Test send or Users", async ({ page }) => {
  const user = await signIn(page, server, db, "viewer");
  await page.goto(server.url);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Overview" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Test send" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(page.getByRole("banner")).toContainText(user.email);
  await expect(page.getByRole("banner")).toContainText("(viewer)");
});

test("admin creates a user on /users", async ({ page }) => {
  await signIn(page, server, db, "admin");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Users" })
    .click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await page.getByLabel("Email").fill("Created.In.Browser@example.test");
  await page.getByLabel("Role", { exact: true }).selectOption("developer");
  await page.getByLabel("Password", { exact: true }).fill("browser-password-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("status")).toHaveText(
    "Created created.in.browser@example.test with the developer role.",
  );
  await expect(
    page.getByRole("cell", {
      name: "created.in.browser@example.test",
      exact: true,
    }),
  ).toBeVisible();
  const { rows } = await db.pool.query(
    "SELECT role FROM app_user WHERE email = 'created.in.browser@example.test'",
  );
  expect(rows[0]?.role).toBe("developer");
});

test("admin sees inline field errors", async ({ page }) => {
  await signIn(page, server, db, "admin");
  await page.goto(`${server.url}/users`);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByText("Use at least 12 characters.")).toBeVisible();
});

test("log out returns to the login page", async ({ page }) => {
  await signIn(page, server, db, "viewer");
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(`${server.url}/login`);
  await expect(page.getByRole("button", { name: "Log out" })).toHaveCount(0);
  await page.goto(`${server.url}/users`);
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fusers$/);
});

test("pages load without CSP violations", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  await signIn(page, server, db, "admin");
  await page.goto(`${server.url}/users`);
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  // RemixBrowser sets window.__remixRouter once the inline scripts that the
  // CSP nonce allows have run and hydration started.
  await page.waitForFunction(() => "__remixRouter" in window);
  expect(violations).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("admin changes a role", async ({ page }) => {
    await signIn(page, server, db, "admin");
    const user = await createTestUser(db, "viewer");
    await page.goto(`${server.url}/users`);
    await page.getByLabel(`Role of ${user.email}`).selectOption("developer");
    await page
      .getByRole("row", { name: new RegExp(user.email) })
      .getByRole("button", { name: "Change role" })
      .click();
    await expect(page.getByRole("status")).toHaveText(
      "Changed the role to developer.",
    );
    const { rows } = await db.pool.query(
      "SELECT role FROM app_user WHERE id = $1",
      [user.id],
    );
    expect(rows[0]?.role).toBe("developer");
  });

  test("wrong password shows an inline error", async ({ page }) => {
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Email").fill("nobody@example.test");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText(
      "The email or password is wrong. Check both and try again.",
    );
  });
});

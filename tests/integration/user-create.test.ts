import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { verifyPassword } from "../../app/auth/password.server";
import { createEmptyDatabase, type TestDatabase } from "../support/database";

const ROOT = path.resolve(import.meta.dirname, "../..");

let db: TestDatabase;

beforeAll(async () => {
  // An unmigrated database, so the script has to apply the migrations.
  db = await createEmptyDatabase("usercreate");
});

afterAll(async () => {
  await db?.drop();
});

function runScript(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "scripts/user-create.ts", ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        DATABASE_URL: db.url,
        ...env,
      } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) =>
    child.once("exit", (code) => resolve({ code, output })),
  );
}

async function userByEmail(email: string) {
  const { rows } = await db.pool.query(
    "SELECT role, password_hash FROM app_user WHERE email = $1",
    [email],
  );
  return rows[0] as { role: string; password_hash: string } | undefined;
}

test("user:create creates an admin", async () => {
  const result = await runScript([
    "--email",
    "Root@Example.test",
    "--role",
    "admin",
    "--password",
    "root-password-123",
  ]);
  expect(result.code, result.output).toBe(0);
  expect(result.output).toContain(
    "created root@example.test with the admin role",
  );
  const row = await userByEmail("root@example.test");
  expect(row?.role).toBe("admin");
  expect(await verifyPassword(row!.password_hash, "root-password-123")).toBe(
    true,
  );
});

test("user:create updates an existing user", async () => {
  await runScript([
    "--email",
    "dev@example.test",
    "--password",
    "first-password-1",
  ]);
  const result = await runScript(
    ["--email", "DEV@example.test", "--role", "developer"],
    {
      USER_PASSWORD: "second-password-2",
    },
  );
  expect(result.code, result.output).toBe(0);
  expect(result.output).toContain("updated dev@example.test");
  const row = await userByEmail("dev@example.test");
  expect(row?.role).toBe("developer");
  expect(await verifyPassword(row!.password_hash, "second-password-2")).toBe(
    true,
  );
});

test("user:create rejects a bad role", async () => {
  const result = await runScript([
    "--email",
    "x@example.test",
    "--role",
    "owner",
    "--password",
    "long-enough-password",
  ]);
  expect(result.code).toBe(2);
  expect(result.output).toContain(
    "--role: must be one of viewer, developer, admin",
  );
  expect(await userByEmail("x@example.test")).toBeUndefined();
});

test("user:create rejects a short password", async () => {
  const result = await runScript([
    "--email",
    "y@example.test",
    "--password",
    "short",
  ]);
  expect(result.code).toBe(2);
  expect(result.output).toContain("password: must be at least 12 characters");
});

test("user:create needs a password for a new user", async () => {
  const result = await runScript(["--email", "z@example.test"]);
  expect(result.code).toBe(1);
  expect(result.output).toContain("Pass --password or set USER_PASSWORD");
  expect(await userByEmail("z@example.test")).toBeUndefined();
});

test("user:create keeps the last admin", async () => {
  const result = await runScript([
    "--email",
    "root@example.test",
    "--role",
    "viewer",
  ]);
  expect(result.code).toBe(1);
  expect(result.output).toContain("This is the last admin.");
  expect((await userByEmail("root@example.test"))?.role).toBe("admin");
});

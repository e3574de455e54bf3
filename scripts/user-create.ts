// Creates a dashboard user, or updates the role and password of an existing
// one, in DATABASE_URL or the embedded database in DATA_DIR.
//
//   npm run user:create -- --email ana@example.com --role admin [--password ...]
//
// The password comes from --password, else USER_PASSWORD, else a prompt when
// stdin is a terminal. An existing user keeps their password when none is
// given. The embedded database allows one process at a time, so stop the
// server first when it uses the embedded database.
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { z } from "zod";
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from "../app/auth/password.server";
import { ROLES } from "../app/auth/roles";
import { LastAdminError, upsertUser } from "../app/auth/users.server";
import { startEmbeddedDatabase } from "../app/db/embedded.server";
import { applyMigrations } from "../app/db/migrate.server";
import { PrismaClient } from "../app/generated/prisma/client";

const USAGE =
  "usage: npm run user:create -- --email EMAIL [--role viewer|developer|admin] [--password PASSWORD]";

const optionsSchema = z.object({
  email: z.email(
    "--email: missing or invalid; pass an address such as ana@example.com",
  ),
  role: z.enum(ROLES, `--role: must be one of ${ROLES.join(", ")}`).optional(),
  password: z
    .string()
    .min(
      PASSWORD_MIN_LENGTH,
      `password: must be at least ${PASSWORD_MIN_LENGTH} characters`,
    )
    .max(
      PASSWORD_MAX_LENGTH,
      `password: must be at most ${PASSWORD_MAX_LENGTH} characters`,
    )
    .optional(),
});

/** Reads a line from the terminal without echoing it. */
async function promptPassword(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stdout.write(chunk);
      callback();
    },
  });
  const prompt = createInterface({
    input: process.stdin,
    output,
    terminal: true,
  });
  const answer = new Promise<string>((resolve) =>
    prompt.question(question, resolve),
  );
  muted = true;
  const password = await answer;
  prompt.close();
  process.stdout.write("\n");
  return password;
}

async function readOptions() {
  const { values } = parseArgs({
    options: {
      email: { type: "string" },
      role: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  let password = values.password ?? process.env.USER_PASSWORD;
  if (password === "") password = undefined;
  if (password === undefined && process.stdin.isTTY) {
    password = await promptPassword(
      "Password (leave empty to keep an existing user's password): ",
    );
    if (password === "") password = undefined;
  }
  const parsed = optionsSchema.safeParse({
    email: values.email,
    role: values.role,
    password,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(issue.message);
    console.error(USAGE);
    process.exit(2);
  }
  return parsed.data;
}

const options = await readOptions();
const embedded = process.env.DATABASE_URL
  ? null
  : await startEmbeddedDatabase({
      dataDir: process.env.DATA_DIR ?? "./data",
      port: 0,
    });
const url = process.env.DATABASE_URL ?? embedded!.url;
const pool = new pg.Pool({ connectionString: url, max: 2 });
const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
try {
  await applyMigrations(url);
  const { user, created } = await upsertUser(prisma, options);
  console.log(
    created
      ? `created ${user.email} with the ${user.role} role`
      : `updated ${user.email}: role ${user.role}${options.password ? ", new password" : ""}`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  if (!(error instanceof LastAdminError) && options.password === undefined) {
    console.error("Pass --password or set USER_PASSWORD to create a user.");
  }
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
  await pool.end();
  await embedded?.stop();
}

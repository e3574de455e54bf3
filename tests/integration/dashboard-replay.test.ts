import { afterAll, beforeAll, expect, test } from "vitest";
import {
  replayMessage,
  withFreshMessageId,
} from "../../app/dashboard/replay.server";
import { parseEnv } from "../../app/env.server";
import {
  exampleBody,
  findSendRoute,
  signProviderBody,
} from "../../app/ingest/providers/signing.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertMessage } from "../support/dashboard-rows";
import { sendRaw } from "../support/fixtures";
import { startServer, waitFor, type RunningServer } from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("dash_replay");
  // The server accepts unsigned webhooks, because replayMessage signs
  // provider replays with this process's secrets, not the server's.
  server = await startServer({
    DATABASE_URL: db.url,
    ALLOW_UNSIGNED_WEBHOOKS: "true",
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function post(body: unknown): Promise<string> {
  const response = await fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  return id;
}

test("replay unchanged is a 409 duplicate", async () => {
  const id = await post({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: "replay me",
    messageId: "replay-test-1",
  });
  const result = await replayMessage(db.pool, id, "unchanged", server.url);
  expect(result?.kind).toBe("sent");
  if (result?.kind !== "sent") return;
  expect(result.status).toBe(409);
  expect(result.newMessageId).toBeNull();
  expect(result.body).toContain(id);
  expect(result.latencyMs).toBeGreaterThan(0);
  // The duplicate's request record, written in a batch, points at it.
  const count = await waitFor(async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM request_record WHERE duplicate_of_id = $1",
      [id],
    );
    return rows[0].n > 0 ? rows[0].n : undefined;
  });
  expect(count).toBe(1);
});

test("replay as new stores a linked message", async () => {
  const id = await post({
    channel: "email",
    from: "ana@example.com",
    to: "support@example.com",
    subject: "Replay as new",
    text: "hello",
    messageId: "replay-test-2",
  });
  const result = await replayMessage(db.pool, id, "new", server.url);
  expect(result?.kind).toBe("sent");
  if (result?.kind !== "sent") return;
  expect(result.status).toBe(201);
  expect(result.newMessageId).not.toBeNull();
  const { rows } = await db.pool.query(
    "SELECT replay_of_id, external_id, subject FROM message WHERE id = $1",
    [result.newMessageId],
  );
  expect(rows[0].replay_of_id).toBe(id);
  expect(rows[0].external_id).toMatch(/^replay-[0-9a-f-]{36}$/);
  expect(rows[0].subject).toBe("Replay as new");
});

test("replay as new stores a hash-keyed message", async () => {
  const id = await post({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: "no message id here",
  });
  const unchanged = await replayMessage(db.pool, id, "unchanged", server.url);
  expect(unchanged?.kind).toBe("sent");
  if (unchanged?.kind === "sent") expect(unchanged.status).toBe(409);

  const result = await replayMessage(db.pool, id, "new", server.url);
  expect(result?.kind).toBe("sent");
  if (result?.kind === "sent") expect(result.status).toBe(201);
});

/**
 * Posts the test-send page's example body for `routeKey` unsigned and
 * returns the stored message's id.
 */
async function storeProviderMessage(
  routeKey: string,
  externalIdOf: (body: string) => string,
): Promise<string> {
  const route = findSendRoute(routeKey)!;
  const body = exampleBody(route);
  const request = signProviderBody(
    route,
    Buffer.from(body),
    parseEnv({ NODE_ENV: "test" }),
    { signingBaseUrl: server.url, now: new Date() },
  );
  const response = await sendRaw(
    server.url,
    request.method,
    request.path,
    request.headers,
    request.body,
  );
  expect(response.status).toBe(200);
  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message WHERE provider = $1 AND external_id = $2",
    [route.provider, externalIdOf(body)],
  );
  expect(rows).toHaveLength(1);
  return rows[0].id;
}

async function copiesOf(id: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message WHERE replay_of_id = $1",
    [id],
  );
  return rows.map((row) => row.id);
}

test.each([
  {
    routeKey: "twilio/sms",
    externalIdOf: (body: string) =>
      new URLSearchParams(body).get("MessageSid")!,
  },
  {
    routeKey: "postmark/email",
    externalIdOf: (body: string) =>
      (JSON.parse(body) as { MessageID: string }).MessageID,
  },
])(
  "$routeKey replay links the stored copy",
  async ({ routeKey, externalIdOf }) => {
    const id = await storeProviderMessage(routeKey, externalIdOf);

    const unchanged = await replayMessage(db.pool, id, "unchanged", server.url);
    expect(unchanged?.kind).toBe("sent");
    if (unchanged?.kind !== "sent") return;
    expect(unchanged.status).toBe(200);
    expect(unchanged.newMessageId).toBeNull();
    expect(await copiesOf(id)).toEqual([]);

    const first = await replayMessage(db.pool, id, "new", server.url);
    expect(first?.kind).toBe("sent");
    if (first?.kind !== "sent") return;
    expect(first.status).toBe(200);
    const firstCopies = await copiesOf(id);
    expect(firstCopies).toHaveLength(1);
    expect(first.newMessageId).toBe(firstCopies[0]);

    const second = await replayMessage(db.pool, id, "new", server.url);
    expect(second?.kind).toBe("sent");
    if (second?.kind !== "sent") return;
    const secondCopies = await copiesOf(id);
    expect(secondCopies).toHaveLength(2);
    expect(second.newMessageId).not.toBe(first.newMessageId);
    expect(secondCopies).toContain(second.newMessageId);

    const again = await replayMessage(db.pool, id, "unchanged", server.url);
    expect(again?.kind).toBe("sent");
    if (again?.kind === "sent") expect(again.newMessageId).toBeNull();
  },
);

test("replay of a provider message is unavailable", async () => {
  const id = await insertMessage(db.pool, {
    provider: "twilio",
    receivedAt: new Date(),
  });
  const result = await replayMessage(db.pool, id, "new", server.url);
  expect(result).toEqual({ kind: "unavailable", provider: "twilio" });
});

test("replay of an unknown message is null", async () => {
  expect(
    await replayMessage(
      db.pool,
      "00000000-0000-4000-8000-000000000000",
      "new",
      server.url,
    ),
  ).toBeNull();
  expect(await replayMessage(db.pool, "nope", "new", server.url)).toBeNull();
});

test("replay to an unreachable origin fails", async () => {
  const id = await post({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: "unreachable",
    messageId: "replay-test-3",
  });
  const result = await replayMessage(db.pool, id, "new", "http://127.0.0.1:9");
  expect(result?.kind).toBe("failed");
});

test("withFreshMessageId keeps other fields", () => {
  const next = withFreshMessageId({ channel: "sms", messageId: "a" }) as {
    channel: string;
    messageId: string;
  };
  expect(next.channel).toBe("sms");
  expect(next.messageId).toMatch(/^replay-/);
  expect(next.messageId).not.toBe("a");
});

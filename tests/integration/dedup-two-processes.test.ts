import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor, type RunningServer } from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";

let db: TestDatabase;
let servers: RunningServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase("dedup2");
  servers = await Promise.all([
    startServer({ DATABASE_URL: db.url }),
    startServer({ DATABASE_URL: db.url }),
  ]);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await db?.drop();
});

test("two processes store 50 concurrent duplicates once", async () => {
  const payload = JSON.stringify({
    channel: "email",
    from: "ana@example.com",
    to: "support@example.com",
    subject: "Two processes",
    text: "Sent to both servers at once",
    messageId: "two-processes-1",
  });
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      fetch(servers[i % 2].url + ENDPOINT, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: payload,
      }),
    ),
  );
  const statuses = responses.map((response) => response.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(1);
  expect(statuses.filter((status) => status === 409)).toHaveLength(49);

  const bodies = await Promise.all(
    responses.map((response) => response.json()),
  );
  const created = bodies[statuses.indexOf(201)];
  const duplicateOf = new Set(
    bodies
      .filter((_, i) => statuses[i] === 409)
      .map((body) => body.duplicateOf),
  );
  expect([...duplicateOf]).toEqual([created.id]);

  const { rows } = await db.pool.query(
    "SELECT count(*)::int AS n FROM message WHERE channel = 'email' AND dedup_key = $1",
    ["id:two-processes-1"],
  );
  expect(rows[0].n).toBe(1);
});

test("two processes count every duplicate on the original", async () => {
  const payload = JSON.stringify({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550188",
    text: "counted twice over",
    messageId: "two-processes-2",
  });
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      fetch(servers[i % 2].url + ENDPOINT, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: payload,
      }),
    ),
  );
  expect(responses.filter((response) => response.status === 409)).toHaveLength(
    19,
  );
  // Duplicates are counted by their request records, which each process
  // writes in batches.
  const count = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM request_record r
       JOIN message m ON m.id = r.duplicate_of_id WHERE m.dedup_key = $1`,
      ["id:two-processes-2"],
    );
    return rows[0].n === 19 ? 19 : undefined;
  });
  expect(count).toBe(19);
});

import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import {
  InvalidQueryError,
  parsePageRequest,
  UUID_PATTERN,
  type PageRequest,
} from "../../app/dashboard/keyset.server";
import {
  listMessages,
  listProviders,
  parseMessageFilters,
  type MessageFilters,
} from "../../app/dashboard/messages.server";
import { getMessageDetail } from "../../app/dashboard/message-detail.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertMessage, insertRequestRecord } from "../support/dashboard-rows";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("dash_messages");
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query(
    "TRUNCATE message, request_record, status_event, request_stats_minute",
  );
});

const NO_FILTERS: MessageFilters = {
  channel: null,
  provider: null,
  from: null,
  to: null,
  q: null,
};

function firstPage(pageSize: number): PageRequest {
  return { cursor: null, direction: "older", pageSize };
}

function filters(query: string): MessageFilters {
  return parseMessageFilters(new URLSearchParams(query));
}

function pageFrom(query: string, pageSize: number): PageRequest {
  return parsePageRequest(new URLSearchParams(query), UUID_PATTERN, pageSize);
}

const BASE = Date.parse("2026-12-01T12:00:00.000Z");
const at = (minutes: number) => new Date(BASE + minutes * 60_000);

test("listMessages returns newest first", async () => {
  const older = await insertMessage(db.pool, { receivedAt: at(0) });
  const newer = await insertMessage(db.pool, { receivedAt: at(5) });
  const page = await listMessages(db.pool, NO_FILTERS, firstPage(10));
  expect(page.rows.map((row) => row.id)).toEqual([newer, older]);
  expect(page.olderCursor).toBeNull();
  expect(page.newerCursor).toBeNull();
});

test("keyset pages cover ties on received_at exactly once", async () => {
  // Seven messages share one timestamp, so only the id orders them.
  const ids: string[] = [];
  for (let i = 0; i < 7; i++)
    ids.push(await insertMessage(db.pool, { receivedAt: at(1) }));
  ids.push(await insertMessage(db.pool, { receivedAt: at(0) }));
  ids.push(await insertMessage(db.pool, { receivedAt: at(2) }));

  const seen: string[] = [];
  const cursors: string[] = [];
  let query = "";
  for (let guard = 0; guard < 10; guard++) {
    const page = await listMessages(db.pool, NO_FILTERS, pageFrom(query, 3));
    expect(page.rows.length).toBeLessThanOrEqual(3);
    seen.push(...page.rows.map((row) => row.id));
    if (!page.olderCursor) break;
    cursors.push(page.olderCursor);
    query = `before=${encodeURIComponent(page.olderCursor)}`;
  }
  expect(seen).toHaveLength(9);
  expect(new Set(seen).size).toBe(9);
  expect(cursors).toHaveLength(2);

  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message ORDER BY received_at DESC, id DESC",
  );
  expect(seen).toEqual(rows.map((row) => row.id));
});

test("newer cursor returns the previous page", async () => {
  for (let i = 0; i < 5; i++)
    await insertMessage(db.pool, { receivedAt: at(1) });
  for (let i = 0; i < 2; i++)
    await insertMessage(db.pool, { receivedAt: at(i + 2) });

  const first = await listMessages(db.pool, NO_FILTERS, firstPage(3));
  const second = await listMessages(
    db.pool,
    NO_FILTERS,
    pageFrom(`before=${first.olderCursor}`, 3),
  );
  expect(second.newerCursor).not.toBeNull();
  const back = await listMessages(
    db.pool,
    NO_FILTERS,
    pageFrom(`after=${second.newerCursor}`, 3),
  );
  expect(back.rows.map((row) => row.id)).toEqual(
    first.rows.map((row) => row.id),
  );
  expect(back.newerCursor).toBeNull();
  expect(back.olderCursor).toBe(first.olderCursor);
});

test("last page has no older cursor", async () => {
  for (let i = 0; i < 4; i++)
    await insertMessage(db.pool, { receivedAt: at(i) });
  const first = await listMessages(db.pool, NO_FILTERS, firstPage(2));
  const last = await listMessages(
    db.pool,
    NO_FILTERS,
    pageFrom(`before=${first.olderCursor}`, 2),
  );
  expect(last.rows).toHaveLength(2);
  expect(last.olderCursor).toBeNull();
  expect(last.newerCursor).not.toBeNull();
});

test("channel and provider filters", async () => {
  const sms = await insertMessage(db.pool, {
    channel: "sms",
    provider: "twilio",
    receivedAt: at(0),
  });
  const email = await insertMessage(db.pool, {
    channel: "email",
    provider: "sendgrid",
    receivedAt: at(1),
  });
  await insertMessage(db.pool, {
    channel: "whatsapp",
    provider: "twilio",
    receivedAt: at(2),
  });

  const bySms = await listMessages(
    db.pool,
    filters("channel=sms"),
    firstPage(10),
  );
  expect(bySms.rows.map((row) => row.id)).toEqual([sms]);

  const byProvider = await listMessages(
    db.pool,
    filters("provider=sendgrid"),
    firstPage(10),
  );
  expect(byProvider.rows.map((row) => row.id)).toEqual([email]);

  const both = await listMessages(
    db.pool,
    filters("channel=sms&provider=twilio"),
    firstPage(10),
  );
  expect(both.rows.map((row) => row.id)).toEqual([sms]);
});

test("date range includes the whole to day", async () => {
  const before = await insertMessage(db.pool, {
    receivedAt: new Date("2026-11-30T23:59:59.999Z"),
  });
  const start = await insertMessage(db.pool, {
    receivedAt: new Date("2026-12-01T00:00:00.000Z"),
  });
  const end = await insertMessage(db.pool, {
    receivedAt: new Date("2026-12-02T23:59:59.999Z"),
  });
  const after = await insertMessage(db.pool, {
    receivedAt: new Date("2026-12-03T00:00:00.000Z"),
  });
  const page = await listMessages(
    db.pool,
    filters("from=2026-12-01&to=2026-12-02"),
    firstPage(10),
  );
  const ids = page.rows.map((row) => row.id);
  expect(ids).toEqual([end, start]);
  expect(ids).not.toContain(before);
  expect(ids).not.toContain(after);
});

test("search matches each text column", async () => {
  const bySender = await insertMessage(db.pool, {
    sender: "ana.needle@example.com",
    receivedAt: at(0),
  });
  const byRecipient = await insertMessage(db.pool, {
    recipient: "needle-desk@example.com",
    receivedAt: at(1),
  });
  const bySubject = await insertMessage(db.pool, {
    channel: "email",
    subject: "A NEEDLE in the subject",
    receivedAt: at(2),
  });
  const byText = await insertMessage(db.pool, {
    text: "found the needle",
    receivedAt: at(3),
  });
  await insertMessage(db.pool, { text: "nothing here", receivedAt: at(4) });

  const page = await listMessages(db.pool, filters("q=needle"), firstPage(10));
  expect(page.rows.map((row) => row.id).sort()).toEqual(
    [bySender, byRecipient, bySubject, byText].sort(),
  );
});

test("search treats % and _ literally", async () => {
  const percent = await insertMessage(db.pool, {
    text: "discount 50% today",
    receivedAt: at(0),
  });
  const underscore = await insertMessage(db.pool, {
    text: "order_id 7",
    receivedAt: at(1),
  });
  const backslash = await insertMessage(db.pool, {
    text: "path C:\\temp",
    receivedAt: at(2),
  });
  await insertMessage(db.pool, {
    text: "discount 500 today",
    receivedAt: at(3),
  });
  await insertMessage(db.pool, { text: "orderXid 7", receivedAt: at(4) });

  const byPercent = await listMessages(
    db.pool,
    filters("q=50%25"),
    firstPage(10),
  );
  expect(byPercent.rows.map((row) => row.id)).toEqual([percent]);

  const byUnderscore = await listMessages(
    db.pool,
    filters("q=order_id"),
    firstPage(10),
  );
  expect(byUnderscore.rows.map((row) => row.id)).toEqual([underscore]);

  const byBackslash = await listMessages(
    db.pool,
    filters(`q=${encodeURIComponent("C:\\temp")}`),
    firstPage(10),
  );
  expect(byBackslash.rows.map((row) => row.id)).toEqual([backslash]);

  const onlyPercent = await listMessages(
    db.pool,
    filters("q=%25"),
    firstPage(10),
  );
  expect(onlyPercent.rows.map((row) => row.id)).toEqual([percent]);
});

test("filters and pagination combine", async () => {
  const matching: string[] = [];
  for (let i = 0; i < 5; i++) {
    matching.push(
      await insertMessage(db.pool, {
        channel: "email",
        subject: "invoice",
        receivedAt: at(1),
      }),
    );
    await insertMessage(db.pool, { channel: "sms", receivedAt: at(1) });
  }
  const first = await listMessages(
    db.pool,
    filters("channel=email&q=invoice"),
    firstPage(3),
  );
  const second = await listMessages(
    db.pool,
    filters("channel=email&q=invoice"),
    pageFrom(`before=${first.olderCursor}`, 3),
  );
  const ids = [...first.rows, ...second.rows].map((row) => row.id);
  expect(ids.sort()).toEqual(matching.sort());
  expect(second.olderCursor).toBeNull();
});

test("parseMessageFilters rejects an unknown channel", () => {
  expect(() => filters("channel=fax")).toThrow(InvalidQueryError);
  expect(() => filters("channel=fax")).toThrow(/channel must be one of/);
});

test("parseMessageFilters rejects a bad date", () => {
  expect(() => filters("from=yesterday")).toThrow(/from must be a date/);
});

test("parseMessageFilters rejects to before from", () => {
  expect(() => filters("from=2026-12-05&to=2026-12-01")).toThrow(
    /to must be after from/,
  );
});

test("parseMessageFilters rejects long search text", () => {
  expect(() => filters(`q=${"a".repeat(201)}`)).toThrow(
    /at most 200 characters, got 201/,
  );
});

test("parseMessageFilters rejects NUL in text", () => {
  expect(() => filters("q=a%00b")).toThrow(InvalidQueryError);
  expect(() => filters("q=a%00b")).toThrow(/q contains a NUL character/);
  expect(() => filters("provider=%00")).toThrow(
    /provider contains a NUL character/,
  );
});

test("parseMessageFilters treats empty fields as any", () => {
  expect(filters("channel=&provider=&from=&to=&q=")).toEqual(NO_FILTERS);
});

test("parsePageRequest rejects a malformed cursor", () => {
  expect(() => pageFrom("before=not-a-cursor", 10)).toThrow(
    /before is not a valid page cursor/,
  );
  expect(() =>
    pageFrom("after=2026-12-01T00:00:00.000Z~1; DROP TABLE message", 10),
  ).toThrow(/after is not a valid page cursor/);
});

test("parsePageRequest rejects before with after", () => {
  expect(() =>
    pageFrom(
      "before=2026-12-01T00:00:00.000Z~00000000-0000-0000-0000-000000000001&after=2026-12-01T00:00:00.000Z~00000000-0000-0000-0000-000000000002",
      10,
    ),
  ).toThrow(/cannot be used together/);
});

test("listProviders returns each provider once", async () => {
  await insertMessage(db.pool, { provider: "twilio", receivedAt: at(0) });
  await insertMessage(db.pool, { provider: "twilio", receivedAt: at(1) });
  await insertMessage(db.pool, { provider: "meta", receivedAt: at(2) });
  expect(await listProviders(db.pool)).toEqual(["meta", "twilio"]);
});

test("getMessageDetail returns null for unknown ids", async () => {
  expect(await getMessageDetail(db.pool, "not-a-uuid")).toBeNull();
  expect(
    await getMessageDetail(db.pool, "00000000-0000-4000-8000-000000000000"),
  ).toBeNull();
});

test("message timeline lists original and duplicates", async () => {
  const id = await insertMessage(db.pool, { receivedAt: at(0) });
  const other = await insertMessage(db.pool, { receivedAt: at(0) });
  const original = await insertRequestRecord(db.pool, {
    receivedAt: at(0),
    outcome: "accepted",
    status: 201,
    latencyMs: 4.5,
    messageId: id,
  });
  const duplicate = await insertRequestRecord(db.pool, {
    receivedAt: at(3),
    outcome: "duplicate",
    status: 409,
    latencyMs: 2.25,
    duplicateOfId: id,
  });
  await insertRequestRecord(db.pool, {
    receivedAt: at(1),
    outcome: "accepted",
    status: 201,
    messageId: other,
  });

  const detail = await getMessageDetail(db.pool, id);
  expect(detail).not.toBeNull();
  const timeline = detail!.timeline;
  expect(timeline.map((row) => row.id)).toEqual([original, duplicate]);
  expect(timeline[0].outcome).toBe("accepted");
  expect(timeline[0].status).toBe(201);
  expect(timeline[0].latencyMs).toBe(4.5);
  expect(timeline[0].stored).toBe(true);
  expect(timeline[1].outcome).toBe("duplicate");
  expect(timeline[1].status).toBe(409);
  expect(timeline[1].stored).toBe(false);
  expect(timeline[1].receivedAt.toISOString()).toBe(at(3).toISOString());
});

test("message detail links replays and status events", async () => {
  const id = await insertMessage(db.pool, {
    provider: "twilio",
    receivedAt: at(0),
  });
  const replay = await insertMessage(db.pool, {
    receivedAt: at(2),
    replayOfId: id,
  });
  await db.pool.query(
    `INSERT INTO status_event (provider, channel, external_message_id,
       message_id, status, error_code, payload, received_at)
     VALUES ('twilio', 'sms', 'SM1', $1, 'failed', '30003', '{}', $2)`,
    [id, at(1)],
  );

  const detail = await getMessageDetail(db.pool, id);
  expect(detail!.replays.map((row) => row.id)).toEqual([replay]);
  expect(detail!.statusEvents).toHaveLength(1);
  expect(detail!.statusEvents[0].status).toBe("failed");
  expect(detail!.statusEvents[0].errorCode).toBe("30003");

  const replayDetail = await getMessageDetail(db.pool, replay);
  expect(replayDetail!.message.replayOfId).toBe(id);
});

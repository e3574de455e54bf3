import { createServer, type IncomingMessage } from "node:http";
import pg from "pg";

/**
 * The ceiling the ingest benchmark compares against: bare node:http plus one
 * `INSERT ... ON CONFLICT DO NOTHING` per request into the same `message`
 * table, with no validation, dedup accounting, request records or logging.
 *
 * Env: DATABASE_URL (required), PORT (0 picks a free port), HOST,
 * DATABASE_POOL_SIZE (default 10, the app's default).
 */

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is missing; set it to a migrated database.");
  process.exit(1);
}
const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? "10");
const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });

const INSERT_MESSAGE = `
INSERT INTO message (channel, provider, dedup_key, dedup_kind, external_id,
  sender, recipient, subject, text_preview, payload, headers, media)
VALUES ($1, 'baseline', $2, 'id', $3, $4, $5, $6, $7, $8, '{}', '[]')
ON CONFLICT (channel, dedup_key) DO NOTHING
RETURNING id`;

interface BenchPayload {
  channel: string;
  messageId: string;
  from: string;
  to: string | string[];
  subject?: string;
  text?: string;
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const server = createServer((request, response) => {
  void (async () => {
    try {
      const text = await readText(request);
      const payload = JSON.parse(text) as BenchPayload;
      const { rows } = await pool.query<{ id: string }>({
        name: "baseline_insert",
        text: INSERT_MESSAGE,
        values: [
          payload.channel,
          `id:${payload.messageId}`,
          payload.messageId,
          payload.from,
          Array.isArray(payload.to) ? payload.to.join(", ") : payload.to,
          payload.subject ?? null,
          payload.text ?? "",
          text,
        ],
      });
      const inserted = rows.length > 0;
      response.writeHead(inserted ? 201 : 409, {
        "content-type": "application/json",
      });
      response.end(JSON.stringify(inserted ? { id: rows[0].id } : {}));
    } catch (error) {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: String(error) }));
    }
  })();
});
server.keepAliveTimeout = 65_000;

server.listen(
  Number(process.env.PORT ?? "0"),
  process.env.HOST ?? "127.0.0.1",
  () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    console.log(
      JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}` }),
    );
  },
);

function stop(): void {
  server.close();
  server.closeIdleConnections();
  void pool.end().then(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

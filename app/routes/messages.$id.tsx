import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
  MetaFunction,
} from "@remix-run/node";
import { data } from "@remix-run/node";
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useNavigation,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import {
  DETAIL_LIST_LIMIT,
  REPLAY_MODES,
  type ReplayMode,
} from "~/dashboard/constants";
import { getMessageDetail } from "~/dashboard/message-detail.server";
import { replayMessage } from "~/dashboard/replay.server";
import { formatMs, formatTime } from "~/components/format";
import {
  ReplayResult,
  type ReplayResultData,
} from "~/components/replay-result";
import {
  BUTTON_CLASS,
  Cell,
  ChannelBadge,
  DataTable,
  HeaderCell,
  LINK_CLASS,
  SECONDARY_BUTTON_CLASS,
} from "~/components/ui";

export const meta: MetaFunction = () => [{ title: "Message · Webhook inbox" }];

function notFound(id: string): never {
  throw data(
    `No message has the id ${JSON.stringify(id)}. Find it in the message log.`,
    { status: 404, statusText: "Not Found" },
  );
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const id = params.id ?? "";
  const app = await getApp();
  const detail = await getMessageDetail(app.pool, id);
  if (!detail) notFound(id);
  return detail;
}

export async function action({ request, params }: ActionFunctionArgs) {
  await requireRole(request, "developer");
  const id = params.id ?? "";
  const form = await request.formData();
  const mode = form.get("mode");
  if (typeof mode !== "string" || !REPLAY_MODES.includes(mode as ReplayMode)) {
    return data<ReplayResultData>(
      {
        kind: "invalid",
        error: `mode must be one of ${REPLAY_MODES.join(", ")}, got ${JSON.stringify(mode)}.`,
      },
      { status: 400 },
    );
  }
  const app = await getApp();
  // NOTE: the origin comes from the request URL, whose host is the Host
  // header, so a developer can aim the replay POST at another host. Only
  // the stored payload is sent, without credentials.
  const origin = new URL(request.url).origin;
  const result = await replayMessage(app.pool, id, mode as ReplayMode, origin);
  if (!result) notFound(id);
  return data<ReplayResultData>(result);
}

export default function MessageDetailPage() {
  const { message, statusEvents, replays, timeline } =
    useLoaderData<typeof loader>();
  const replay = useActionData<typeof action>();
  const navigation = useNavigation();
  const replaying = navigation.state === "submitting";

  const fields: [string, ReactNode][] = [
    ["Channel", <ChannelBadge key="c" channel={message.channel} />],
    ["Provider", message.provider],
    ["Received", formatTime(message.receivedAt)],
    ["From", message.sender],
    ["To", message.recipient],
    ["Subject", message.subject ?? "–"],
    ["External id", message.externalId ?? "–"],
    ["Dedup key", `${message.dedupKey} (${message.dedupKind})`],
    [
      "Duplicates",
      message.lastDuplicateAt
        ? `${message.duplicateCount}, last at ${formatTime(message.lastDuplicateAt)}`
        : String(message.duplicateCount),
    ],
    [
      "Replay of",
      message.replayOfId ? (
        <Link
          key="r"
          to={`/messages/${message.replayOfId}`}
          className={LINK_CLASS}
        >
          {message.replayOfId}
        </Link>
      ) : (
        "–"
      ),
    ],
  ];

  return (
    <article className="space-y-6">
      <div>
        <Link to="/messages" className={LINK_CLASS}>
          ← Messages
        </Link>
        <h1 className="mt-2 break-words text-2xl font-semibold">
          {message.subject ??
            `${message.channel} message from ${message.sender}`}
        </h1>
        <p className="text-sm text-slate-500">Message {message.id}</p>
      </div>

      <dl className="grid grid-cols-1 gap-x-6 gap-y-2 rounded border border-slate-200 bg-white p-4 text-sm sm:grid-cols-[10rem_1fr]">
        {fields.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="font-medium text-slate-600">{label}</dt>
            <dd className="break-all">{value}</dd>
          </div>
        ))}
      </dl>

      <section aria-labelledby="text-heading">
        <h2 id="text-heading" className="text-lg font-semibold">
          Text
        </h2>
        <p className="mt-1 whitespace-pre-wrap break-words rounded border border-slate-200 bg-white p-3 text-sm">
          {message.textPreview || "(empty)"}
        </p>
      </section>

      <section aria-labelledby="replay-heading">
        <h2 id="replay-heading" className="text-lg font-semibold">
          Replay
        </h2>
        <p className="text-sm text-slate-600">
          Re-sends the stored payload to the ingest endpoint over HTTP.
          Unchanged, it should be rejected as a duplicate (409); as new, it gets
          a fresh message id and is stored as a replay of this message.
        </p>
        <Form method="post" className="mt-2 flex flex-wrap gap-2">
          <button
            type="submit"
            name="mode"
            value="unchanged"
            disabled={replaying}
            className={SECONDARY_BUTTON_CLASS}
          >
            Replay unchanged
          </button>
          <button
            type="submit"
            name="mode"
            value="new"
            disabled={replaying}
            className={BUTTON_CLASS}
          >
            Replay as new message
          </button>
        </Form>
        {replay ? <ReplayResult result={replay} /> : null}
      </section>

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading" className="text-lg font-semibold">
          Requests that carried this message
        </h2>
        <DataTable caption="Requests that carried this message">
          <thead>
            <tr>
              <HeaderCell>Time</HeaderCell>
              <HeaderCell>Request</HeaderCell>
              <HeaderCell>Status</HeaderCell>
              <HeaderCell>Outcome</HeaderCell>
              <HeaderCell>Latency</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {timeline.map((row) => (
              <tr key={row.id}>
                <Cell className="whitespace-nowrap">
                  {formatTime(row.receivedAt)}
                </Cell>
                <Cell className="break-all">
                  {row.method} {row.path}
                  <span className="block text-xs text-slate-500">
                    {row.requestId}
                  </span>
                </Cell>
                <Cell className="tabular-nums">{row.status}</Cell>
                <Cell>{row.outcome}</Cell>
                <Cell className="tabular-nums">{formatMs(row.latencyMs)}</Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
        {timeline.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">
            No request records yet; they are written a moment after the request.
          </p>
        ) : null}
        {timeline.length === DETAIL_LIST_LIMIT ? (
          <p className="mt-2 text-sm text-slate-600">
            Showing the first {DETAIL_LIST_LIMIT} requests.
          </p>
        ) : null}
      </section>

      <section aria-labelledby="replays-heading">
        <h2 id="replays-heading" className="text-lg font-semibold">
          Replays of this message
        </h2>
        {replays.length === 0 ? (
          <p className="text-sm text-slate-600">None.</p>
        ) : (
          <ul className="mt-1 list-disc pl-6 text-sm">
            {replays.map((row) => (
              <li key={row.id}>
                <Link to={`/messages/${row.id}`} className={LINK_CLASS}>
                  {row.id}
                </Link>{" "}
                at {formatTime(row.receivedAt)}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="status-heading">
        <h2 id="status-heading" className="text-lg font-semibold">
          Status events
        </h2>
        {statusEvents.length === 0 ? (
          <p className="text-sm text-slate-600">None received.</p>
        ) : (
          <DataTable caption="Status events">
            <thead>
              <tr>
                <HeaderCell>Time</HeaderCell>
                <HeaderCell>Status</HeaderCell>
                <HeaderCell>Error code</HeaderCell>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {statusEvents.map((row) => (
                <tr key={row.id}>
                  <Cell>{formatTime(row.receivedAt)}</Cell>
                  <Cell>{row.status}</Cell>
                  <Cell>{row.errorCode ?? "–"}</Cell>
                </tr>
              ))}
            </tbody>
          </DataTable>
        )}
      </section>

      <section aria-labelledby="media-heading">
        <h2 id="media-heading" className="text-lg font-semibold">
          Media and attachments
        </h2>
        {message.media.length === 0 ? (
          <p className="text-sm text-slate-600">None.</p>
        ) : (
          <ul className="mt-1 list-disc pl-6 text-sm">
            {message.media.map((item, index) => (
              <li key={index} className="break-all">
                {item.name ?? item.url ?? `item ${index + 1}`}
                {item.contentType ? ` (${item.contentType})` : ""}
                {item.size !== undefined ? `, ${item.size} bytes` : ""}
                {item.url && /^https?:\/\//i.test(item.url) ? (
                  <>
                    {" "}
                    <a
                      href={item.url}
                      rel="noreferrer noopener"
                      target="_blank"
                      className={LINK_CLASS}
                    >
                      open
                    </a>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <details className="rounded border border-slate-200 bg-white p-3">
        <summary className="cursor-pointer font-semibold">
          Payload
          {message.rawBodyBytes !== null
            ? ` (raw body ${message.rawBodyBytes} bytes)`
            : ""}
        </summary>
        <pre className="mt-2 max-h-[32rem] overflow-auto text-xs">
          {JSON.stringify(message.payload, null, 2)}
        </pre>
      </details>

      <details className="rounded border border-slate-200 bg-white p-3">
        <summary className="cursor-pointer font-semibold">
          Stored headers
        </summary>
        <DataTable caption="Stored request headers">
          <thead>
            <tr>
              <HeaderCell>Name</HeaderCell>
              <HeaderCell>Value</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {Object.entries(message.headers).map(([name, value]) => (
              <tr key={name}>
                <th
                  scope="row"
                  className="px-3 py-2 text-left font-mono font-normal"
                >
                  {name}
                </th>
                <Cell className="break-all font-mono">{value}</Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </details>
    </article>
  );
}

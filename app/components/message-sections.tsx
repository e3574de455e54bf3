import { Link } from "@remix-run/react";
import type {
  MessageDetail,
  ReplayRow,
  StatusEventRow,
  TimelineRow,
} from "~/dashboard/message-detail.server";
import { DETAIL_LIST_LIMIT } from "~/dashboard/constants";
import { formatMs, formatTime } from "./format";
import { Cell, DataTable, HeaderCell, LINK_CLASS } from "./ui";

// Sections of the message detail page below the replay form.

/** Renders every request that carried the message, oldest first. */
export function RequestTimeline({ timeline }: { timeline: TimelineRow[] }) {
  return (
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
  );
}

/** Lists the messages stored as replays of this one. */
export function ReplayList({ replays }: { replays: ReplayRow[] }) {
  return (
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
  );
}

/** Renders the delivery status events of the message. */
export function StatusEvents({
  statusEvents,
}: {
  statusEvents: StatusEventRow[];
}) {
  return (
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
  );
}

/** Lists media and attachments, linking only http and https URLs. */
export function MediaList({ media }: { media: MessageDetail["media"] }) {
  return (
    <section aria-labelledby="media-heading">
      <h2 id="media-heading" className="text-lg font-semibold">
        Media and attachments
      </h2>
      {media.length === 0 ? (
        <p className="text-sm text-slate-600">None.</p>
      ) : (
        <ul className="mt-1 list-disc pl-6 text-sm">
          {media.map((item, index) => (
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
  );
}

/** Shows the stored payload, pretty-printed, in a collapsed block. */
export function PayloadBlock({
  message,
}: {
  message: Pick<MessageDetail, "payload" | "rawBodyBytes">;
}) {
  return (
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
  );
}

/** Shows the stored request headers in a collapsed table. */
export function HeadersBlock({
  headers,
}: {
  headers: MessageDetail["headers"];
}) {
  return (
    <details className="rounded border border-slate-200 bg-white p-3">
      <summary className="cursor-pointer font-semibold">Stored headers</summary>
      <DataTable caption="Stored request headers">
        <thead>
          <tr>
            <HeaderCell>Name</HeaderCell>
            <HeaderCell>Value</HeaderCell>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {Object.entries(headers).map(([name, value]) => (
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
  );
}

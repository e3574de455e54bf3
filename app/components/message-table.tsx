import { Link } from "@remix-run/react";
import { formatTime } from "./format";
import {
  Cell,
  ChannelBadge,
  DataTable,
  HeaderCell,
  LINK_CLASS,
  WIDE_SCREEN_ONLY,
} from "./ui";

/** The fields of a message row that the table shows. */
export interface MessageTableRow {
  id: string;
  channel: string;
  provider: string;
  sender: string;
  recipient: string;
  subject: string | null;
  textPreview: string;
  receivedAt: Date;
  duplicateCount: number;
  replayOfId: string | null;
}

/** Renders messages as table rows, each linking to its detail page. */
export function MessageTable({
  caption,
  rows,
}: {
  caption: string;
  rows: MessageTableRow[];
}) {
  return (
    <DataTable caption={caption}>
      <thead>
        <tr>
          <HeaderCell>Received</HeaderCell>
          <HeaderCell>Channel</HeaderCell>
          <HeaderCell className={WIDE_SCREEN_ONLY}>Provider</HeaderCell>
          <HeaderCell>From</HeaderCell>
          <HeaderCell className={WIDE_SCREEN_ONLY}>To</HeaderCell>
          <HeaderCell>Message</HeaderCell>
          <HeaderCell className={WIDE_SCREEN_ONLY}>Duplicates</HeaderCell>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((row) => (
          <tr key={row.id} className="hover:bg-slate-50">
            <Cell className="whitespace-nowrap">
              <Link to={`/messages/${row.id}`} className={LINK_CLASS}>
                {formatTime(row.receivedAt)}
              </Link>
            </Cell>
            <Cell>
              <ChannelBadge channel={row.channel} />
            </Cell>
            <Cell className={WIDE_SCREEN_ONLY}>{row.provider}</Cell>
            <Cell className="max-w-[14rem] break-words">
              <span className="line-clamp-2" title={row.sender}>
                {row.sender}
              </span>
            </Cell>
            <Cell className={`max-w-[14rem] break-words ${WIDE_SCREEN_ONLY}`}>
              <span className="line-clamp-2" title={row.recipient}>
                {row.recipient}
              </span>
            </Cell>
            <Cell className="min-w-[12rem] max-w-[28rem] break-words">
              {row.subject ? (
                <span className="line-clamp-1 block font-medium [overflow-wrap:anywhere]">
                  {row.subject}
                </span>
              ) : null}
              <span className="line-clamp-2 block text-slate-600 [overflow-wrap:anywhere]">
                {row.textPreview}
              </span>
              {row.replayOfId ? (
                <span className="mt-1 block text-xs text-slate-500">
                  replay
                </span>
              ) : null}
            </Cell>
            <Cell className={`text-right tabular-nums ${WIDE_SCREEN_ONLY}`}>
              {row.duplicateCount}
            </Cell>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

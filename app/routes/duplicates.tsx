import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { parseQuery } from "~/dashboard/http.server";
import { BIGINT_ID_PATTERN, parsePageRequest } from "~/dashboard/keyset.server";
import { listDuplicates } from "~/dashboard/requests.server";
import { STATS_WINDOW_HOURS } from "~/dashboard/constants";
import { channelStats } from "~/dashboard/stats.server";
import {
  formatCount,
  formatDuration,
  formatPercent,
  formatTime,
} from "~/components/format";
import {
  Cell,
  ChannelBadge,
  DataTable,
  EmptyState,
  HeaderCell,
  LINK_CLASS,
  PageHeading,
  Pager,
} from "~/components/ui";

export const meta: MetaFunction = () => [
  { title: "Duplicates · Webhook inbox" },
];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const params = new URL(request.url).searchParams;
  const page = parseQuery(() => parsePageRequest(params, BIGINT_ID_PATTERN));
  const app = await getApp();
  const [duplicates, stats] = await Promise.all([
    listDuplicates(app.pool, page),
    channelStats(app.pool, app.now()),
  ]);
  return {
    duplicates,
    rates: stats.filter((row) => row.channel !== ""),
  };
}

export default function Duplicates() {
  const { duplicates, rates } = useLoaderData<typeof loader>();
  const [search] = useSearchParams();
  return (
    <section>
      <PageHeading title="Duplicates">
        Requests rejected because their message was already stored. A provider
        that retries a webhook it believes failed shows up here.
      </PageHeading>

      <h2 className="text-lg font-semibold">
        Duplicate rate, last {STATS_WINDOW_HOURS} hours
      </h2>
      <p className="mb-2 text-sm text-slate-600">
        Duplicates as a share of accepted plus duplicate requests.
      </p>
      {rates.length === 0 ? (
        <EmptyState title="No requests in the last 24 hours" />
      ) : (
        <DataTable caption="Duplicate rate per channel">
          <thead>
            <tr>
              <HeaderCell>Channel</HeaderCell>
              <HeaderCell>Accepted</HeaderCell>
              <HeaderCell>Duplicates</HeaderCell>
              <HeaderCell>Duplicate rate</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 tabular-nums">
            {rates.map((row) => (
              <tr key={row.channel}>
                <th scope="row" className="px-3 py-2 text-left font-normal">
                  <ChannelBadge channel={row.channel} />
                </th>
                <Cell>{formatCount(row.accepted)}</Cell>
                <Cell>{formatCount(row.duplicate)}</Cell>
                <Cell>{formatPercent(row.duplicateRate)}</Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}

      <h2 className="mt-8 mb-2 text-lg font-semibold">Rejected duplicates</h2>
      {duplicates.rows.length === 0 ? (
        <EmptyState title="No duplicates">
          <p>
            A duplicate is recorded when a message with the same message id (or,
            without one, the same content within the dedup window) arrives
            again.
          </p>
        </EmptyState>
      ) : (
        <DataTable caption="Rejected duplicates, newest first">
          <thead>
            <tr>
              <HeaderCell>Received</HeaderCell>
              <HeaderCell>Channel</HeaderCell>
              <HeaderCell>Request</HeaderCell>
              <HeaderCell>Status</HeaderCell>
              <HeaderCell>Original</HeaderCell>
              <HeaderCell>After the original</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {duplicates.rows.map((row) => (
              <tr key={row.id}>
                <Cell className="whitespace-nowrap">
                  {formatTime(row.receivedAt)}
                </Cell>
                <Cell>
                  <ChannelBadge channel={row.channel} />
                </Cell>
                <Cell className="break-all">
                  {row.path}
                  {row.provider ? (
                    <span className="block text-xs text-slate-500">
                      {row.provider}
                    </span>
                  ) : null}
                </Cell>
                <Cell className="tabular-nums">{row.status}</Cell>
                <Cell className="break-all">
                  {row.duplicateOfId ? (
                    <Link
                      to={`/messages/${row.duplicateOfId}`}
                      className={LINK_CLASS}
                      aria-label={`Original message ${row.duplicateOfId}`}
                    >
                      {row.subject ?? row.sender ?? row.duplicateOfId}
                    </Link>
                  ) : (
                    "–"
                  )}
                  {row.originalReceivedAt ? (
                    <span className="block text-xs text-slate-500">
                      {formatTime(row.originalReceivedAt)}
                    </span>
                  ) : null}
                </Cell>
                <Cell className="whitespace-nowrap tabular-nums">
                  {formatDuration(row.sinceOriginalMs)}
                </Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      <Pager
        search={search}
        olderCursor={duplicates.olderCursor}
        newerCursor={duplicates.newerCursor}
      />
    </section>
  );
}

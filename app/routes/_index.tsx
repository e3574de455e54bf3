import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { newestMessages } from "~/dashboard/messages.server";
import { STATS_WINDOW_HOURS } from "~/dashboard/constants";
import { channelStats } from "~/dashboard/stats.server";
import { CurlExample } from "~/components/curl-example";
import { formatCount, formatMs, formatPercent } from "~/components/format";
import { MessageTable } from "~/components/message-table";
import {
  Cell,
  ChannelBadge,
  DataTable,
  EmptyState,
  HeaderCell,
  LINK_CLASS,
  PageHeading,
} from "~/components/ui";
import { useAutoRevalidate } from "~/components/use-auto-revalidate";

export const meta: MetaFunction = () => [{ title: "Overview · Webhook inbox" }];

const NEWEST_COUNT = 8;
const REFRESH_MS = 10_000;

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const app = await getApp();
  const [stats, newest] = await Promise.all([
    channelStats(app.pool, app.now()),
    newestMessages(app.pool, NEWEST_COUNT),
  ]);
  return { stats, newest, origin: new URL(request.url).origin };
}

export default function Overview() {
  const { stats, newest, origin } = useLoaderData<typeof loader>();
  useAutoRevalidate(true, REFRESH_MS);
  return (
    <section>
      <PageHeading title="Overview">
        Requests per channel over the last {STATS_WINDOW_HOURS} hours and the
        newest messages. Latency percentiles are the upper bounds of histogram
        buckets, so they read up to 25 % high.
      </PageHeading>

      {stats.length === 0 ? (
        <EmptyState title="No requests in the last 24 hours" />
      ) : (
        <DataTable
          caption={`Requests per channel, last ${STATS_WINDOW_HOURS} hours`}
        >
          <thead>
            <tr>
              <HeaderCell>Channel</HeaderCell>
              <HeaderCell>Accepted</HeaderCell>
              <HeaderCell>Duplicates</HeaderCell>
              <HeaderCell>Rejected</HeaderCell>
              <HeaderCell>Duplicate rate</HeaderCell>
              <HeaderCell>p50</HeaderCell>
              <HeaderCell>p95</HeaderCell>
              <HeaderCell>p99</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 tabular-nums">
            {stats.map((row) => (
              <tr key={row.channel}>
                <th scope="row" className="px-3 py-2 text-left font-normal">
                  <ChannelBadge channel={row.channel} />
                </th>
                <Cell>{formatCount(row.accepted)}</Cell>
                <Cell>
                  <Link to="/duplicates" className={LINK_CLASS}>
                    {formatCount(row.duplicate)}
                  </Link>
                </Cell>
                <Cell>
                  <Link to="/failures" className={LINK_CLASS}>
                    {formatCount(row.rejected)}
                  </Link>
                </Cell>
                <Cell>{formatPercent(row.duplicateRate)}</Cell>
                <Cell>{formatMs(row.latencyP50Ms)}</Cell>
                <Cell>{formatMs(row.latencyP95Ms)}</Cell>
                <Cell>{formatMs(row.latencyP99Ms)}</Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}

      <div className="mt-8 flex items-baseline justify-between gap-4">
        <h2 className="text-lg font-semibold">Newest messages</h2>
        <Link to="/messages" className={LINK_CLASS}>
          All messages
        </Link>
      </div>
      <div className="mt-2">
        {newest.length === 0 ? (
          <EmptyState title="No messages yet">
            <p>Send a test message to the ingest endpoint:</p>
            <CurlExample origin={origin} />
          </EmptyState>
        ) : (
          <MessageTable caption="Newest messages" rows={newest} />
        )}
      </div>
    </section>
  );
}

import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { LatencyCharts } from "~/components/latency-charts";
import { LatencyTable } from "~/components/latency-table";
import {
  CHANNEL_FILTERS,
  DEFAULT_LATENCY_RANGE,
  isChannelFilter,
  isLatencyRange,
  LATENCY_RANGES,
  type ChannelFilter,
  type LatencyRange,
} from "~/dashboard/latency";
import { queryLatencyCharts } from "~/dashboard/latency.server";

export const meta: MetaFunction = () => [{ title: "Latency · Webhook inbox" }];

const TABLE_ID = "latency-table";
const CONTROL =
  "rounded border border-slate-300 bg-white px-3 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

function badRequest(message: string): Response {
  return new Response(message, { status: 400, statusText: "Bad Request" });
}

function parseFilters(url: URL): {
  range: LatencyRange;
  channel: ChannelFilter;
} {
  const range = url.searchParams.get("range") ?? DEFAULT_LATENCY_RANGE;
  if (!isLatencyRange(range)) {
    throw badRequest(
      `range must be one of ${Object.keys(LATENCY_RANGES).join(", ")}, got ${JSON.stringify(range)}. Use for example ?range=24h.`,
    );
  }
  const channel = url.searchParams.get("channel") ?? "all";
  if (!isChannelFilter(channel)) {
    throw badRequest(
      `channel must be one of ${CHANNEL_FILTERS.join(", ")}, got ${JSON.stringify(channel)}. Use for example ?channel=sms.`,
    );
  }
  return { range, channel };
}

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const { range, channel } = parseFilters(new URL(request.url));
  const app = await getApp();
  const { series, byChannel } = await queryLatencyCharts(app.pool, {
    range,
    channel,
    now: app.now(),
  });
  return { range, channel, series, byChannel };
}

function channelLabel(channel: ChannelFilter): string {
  return channel === "all" ? "All channels" : channel;
}

export default function LatencyPage() {
  const { range, channel, series, byChannel } = useLoaderData<typeof loader>();
  const requests = series.points.reduce((sum, point) => sum + point.total, 0);
  const windowText = `${series.start.slice(0, 16).replace("T", " ")} to ${series.end
    .slice(0, 16)
    .replace("T", " ")} UTC`;

  return (
    <section className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold">Latency</h1>
        <p className="max-w-3xl text-slate-700">
          Ingest latency percentiles, throughput and duplicate rate of webhook
          requests, in buckets of {series.bucketMinutes} min. Percentiles are
          read from histograms whose buckets grow by 25 %, so a value is the
          upper bound of its bucket.
        </p>
        <Form method="get" className="flex flex-wrap items-end gap-4">
          <div className="flex flex-col gap-1">
            <label htmlFor="range" className="text-sm font-medium">
              Range
            </label>
            <select
              id="range"
              name="range"
              defaultValue={range}
              className={CONTROL}
            >
              {Object.entries(LATENCY_RANGES).map(([value, option]) => (
                <option key={value} value={value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="channel" className="text-sm font-medium">
              Channel
            </label>
            <select
              id="channel"
              name="channel"
              defaultValue={channel}
              className={CONTROL}
            >
              {CHANNEL_FILTERS.map((value) => (
                <option key={value} value={value}>
                  {channelLabel(value)}
                </option>
              ))}
            </select>
          </div>
          <button
            type="submit"
            className="rounded bg-indigo-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            Show
          </button>
        </Form>
        <p className="text-sm text-slate-600">
          {channelLabel(channel)}, {windowText}: {requests}{" "}
          {requests === 1 ? "request" : "requests"}.
        </p>
      </header>

      {series.points.length === 0 ? (
        <div className="rounded border border-dashed border-slate-300 bg-white p-6">
          <h2 className="font-semibold">No requests in this range</h2>
          <p className="mt-1 text-slate-700">
            No webhook requests arrived for {channelLabel(channel)} from{" "}
            {windowText}. Pick a longer range or send one from{" "}
            <Link to="/send/email" className="text-indigo-700 underline">
              Test send
            </Link>
            .
          </p>
        </div>
      ) : (
        <>
          <LatencyCharts
            series={series}
            byChannel={byChannel}
            tableId={TABLE_ID}
          />
          <LatencyTable
            id={TABLE_ID}
            caption={`Latency per ${series.bucketMinutes}-minute bucket, ${channelLabel(channel)}`}
            points={series.points}
            range={range}
            bucketMinutes={series.bucketMinutes}
          />
        </>
      )}
    </section>
  );
}

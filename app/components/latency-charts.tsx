import { useEffect, useState, type ReactNode } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatBucketTime } from "~/dashboard/latency-format";
import {
  bucketStarts,
  type LatencyPoint,
  type LatencySeries,
} from "~/dashboard/latency";

const CHART_HEIGHT = 260;
const CHART_MARGIN = { top: 8, right: 16, bottom: 24, left: 16 };
const PERCENTILE_LINES = [
  { key: "p50Ms", name: "p50", color: "#4f46e5" },
  { key: "p95Ms", name: "p95", color: "#d97706" },
  { key: "p99Ms", name: "p99", color: "#dc2626" },
] as const;
const CHANNEL_COLORS: Record<string, string> = {
  email: "#4f46e5",
  whatsapp: "#16a34a",
  sms: "#d97706",
};

/** Returns the chart key and legend name of a channel ("" is unknown). */
function channelName(channel: string): string {
  return channel === "" ? "unknown" : channel;
}

type ChartRow = Record<string, string | number | null>;

/**
 * Expands the points to one row per bucket of the window, with null
 * latency and 0 requests where a bucket had none, so lines break at gaps.
 */
function toRows(series: LatencySeries): ChartRow[] {
  const byStart = new Map(
    series.points.map((point) => [point.bucketStart, point]),
  );
  return bucketStarts(series).map((start) => {
    const point = byStart.get(start);
    return {
      time: formatBucketTime(start, series.range),
      p50Ms: point?.p50Ms ?? null,
      p95Ms: point?.p95Ms ?? null,
      p99Ms: point?.p99Ms ?? null,
      requestsPerMinute: point?.requestsPerMinute ?? 0,
      duplicateRatePercent: point?.duplicateRatePercent ?? null,
    };
  });
}

/** Builds one row per bucket with the p95 of each channel as a column. */
function toChannelRows(series: LatencySeries, channels: string[]): ChartRow[] {
  const byKey = new Map<string, LatencyPoint>(
    series.points.map((point) => [
      `${point.bucketStart}|${point.channel}`,
      point,
    ]),
  );
  return bucketStarts(series).map((start) => {
    const row: ChartRow = { time: formatBucketTime(start, series.range) };
    for (const channel of channels) {
      row[channelName(channel)] =
        byKey.get(`${start}|${channel}`)?.p95Ms ?? null;
    }
    return row;
  });
}

function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

function ChartFigure({
  title,
  tableId,
  children,
}: {
  title: string;
  tableId: string;
  children: ReactNode;
}) {
  return (
    <figure
      className="rounded border border-slate-200 bg-white p-3"
      aria-describedby={tableId}
    >
      <figcaption className="mb-2 text-sm font-medium text-slate-700">
        {title}
      </figcaption>
      <div style={{ height: CHART_HEIGHT }}>{children}</div>
    </figure>
  );
}

function timeAxis() {
  return (
    <XAxis
      dataKey="time"
      minTickGap={24}
      tick={{ fontSize: 12 }}
      label={{ value: "Time (UTC)", position: "insideBottom", offset: -16 }}
    />
  );
}

function valueAxis(label: string) {
  return (
    <YAxis
      tick={{ fontSize: 12 }}
      width={56}
      label={{
        value: label,
        angle: -90,
        position: "insideLeft",
        style: { textAnchor: "middle" },
      }}
    />
  );
}

/**
 * Renders the latency, throughput and duplicate-rate charts. They render in
 * the browser only, because Recharts measures its container. The table with the
 * same numbers (`tableId`) is the view without JavaScript.
 */
export function LatencyCharts({
  series,
  byChannel,
  tableId,
}: {
  series: LatencySeries;
  byChannel: LatencySeries | null;
  tableId: string;
}) {
  const hydrated = useHydrated();
  if (!hydrated) {
    return (
      <p className="text-sm text-slate-600">
        The charts need JavaScript; the table below lists the same numbers.
      </p>
    );
  }
  const rows = toRows(series);
  const channels = byChannel
    ? [...new Set(byChannel.points.map((point) => point.channel))]
    : [];
  return (
    <div className="grid gap-4 xl:grid-cols-2">
      <ChartFigure title="Ingest latency (ms)" tableId={tableId}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={CHART_MARGIN}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {timeAxis()}
            {valueAxis("Latency (ms)")}
            <Tooltip />
            <Legend verticalAlign="top" height={24} />
            {PERCENTILE_LINES.map((line) => (
              <Line
                key={line.key}
                type="monotone"
                dataKey={line.key}
                name={line.name}
                stroke={line.color}
                dot={{ r: 2 }}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </ChartFigure>
      <ChartFigure title="Throughput (requests per minute)" tableId={tableId}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={CHART_MARGIN}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {timeAxis()}
            {valueAxis("Throughput (req/min)")}
            <Tooltip />
            <Bar
              dataKey="requestsPerMinute"
              name="req/min"
              fill="#4f46e5"
              isAnimationActive={false}
            />
          </BarChart>
        </ResponsiveContainer>
      </ChartFigure>
      <ChartFigure title="Duplicate rate (% of requests)" tableId={tableId}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={CHART_MARGIN}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            {timeAxis()}
            {valueAxis("Duplicates (%)")}
            <Tooltip />
            <Line
              type="monotone"
              dataKey="duplicateRatePercent"
              name="duplicates %"
              stroke="#0891b2"
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </ChartFigure>
      {byChannel && channels.length > 0 ? (
        <ChartFigure title="p95 latency by channel (ms)" tableId={tableId}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart
              data={toChannelRows(byChannel, channels)}
              margin={CHART_MARGIN}
            >
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              {timeAxis()}
              {valueAxis("p95 latency (ms)")}
              <Tooltip />
              <Legend verticalAlign="top" height={24} />
              {channels.map((channel) => (
                <Line
                  key={channel}
                  type="monotone"
                  dataKey={channelName(channel)}
                  name={channelName(channel)}
                  stroke={CHANNEL_COLORS[channel] ?? "#64748b"}
                  dot={{ r: 2 }}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </ChartFigure>
      ) : null}
    </div>
  );
}

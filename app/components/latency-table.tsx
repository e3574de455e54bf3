import {
  formatBucketTime,
  formatDecimal,
  formatMs,
} from "~/dashboard/latency-format";
import type { LatencyPoint, LatencyRange } from "~/dashboard/latency";

/**
 * Renders the numbers behind the latency charts, one row per bucket with
 * requests. The table is the page's accessible view and its view without
 * JavaScript.
 */
export function LatencyTable({
  id,
  caption,
  points,
  range,
  bucketMinutes,
}: {
  id: string;
  caption: string;
  points: LatencyPoint[];
  range: LatencyRange;
  bucketMinutes: number;
}) {
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table id={id} className="min-w-full text-right text-sm tabular-nums">
        <caption className="px-3 py-2 text-left font-medium text-slate-700">
          {caption}
        </caption>
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th scope="col" className="px-3 py-2 text-left font-medium">
              Bucket start (UTC, {bucketMinutes} min)
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Requests
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Throughput (req/min)
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Duplicates (%)
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Rejected
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              p50 (ms)
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              p95 (ms)
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              p99 (ms)
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {points.map((point) => (
            <tr key={point.bucketStart}>
              <th scope="row" className="px-3 py-1.5 text-left font-normal">
                <time dateTime={point.bucketStart}>
                  {formatBucketTime(point.bucketStart, range)}
                </time>
              </th>
              <td className="px-3 py-1.5">{point.total}</td>
              <td className="px-3 py-1.5">
                {formatDecimal(point.requestsPerMinute)}
              </td>
              <td className="px-3 py-1.5">
                {formatDecimal(point.duplicateRatePercent)}
              </td>
              <td className="px-3 py-1.5">{point.rejected}</td>
              <td className="px-3 py-1.5">{formatMs(point.p50Ms)}</td>
              <td className="px-3 py-1.5">{formatMs(point.p95Ms)}</td>
              <td className="px-3 py-1.5">{formatMs(point.p99Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import http from "node:http";
import autocannon from "autocannon";
import type { CpuUsage } from "./cpu";
import {
  messageIds,
  payloadFor,
  seedIdOf,
  type Channel,
  type Scenario,
} from "./payloads";

export const ENDPOINT = "/api/webhooks/test-multichannel";

/** Measurements of one autocannon run. */
export interface LoadResult {
  requests: number;
  durationSeconds: number;
  /** Requests per second over the whole run. */
  rps: number;
  /** Latency percentiles in milliseconds, from every response. */
  p50: number;
  p95: number;
  p99: number;
  /** Response count per HTTP status. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts, which get no status. */
  errors: number;
  timeouts: number;
  /** CPU time spent meanwhile, where bench/cpu.ts can measure it. */
  cpu?: CpuUsage;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(
    sorted.length - 1,
    Math.ceil(fraction * sorted.length) - 1,
  );
  return Math.round(sorted[Math.max(0, index)] * 100) / 100;
}

/** Sends one body and returns its status; used to store the seed of a run. */
export async function postOnce(baseUrl: string, body: string): Promise<number> {
  const response = await fetch(baseUrl + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Runs autocannon against `baseUrl` with a fresh body per request. Latency
 * percentiles come from the response events, because autocannon's own
 * summary has p97.5 but no p95.
 */
export async function runLoad(options: {
  baseUrl: string;
  channel: Channel;
  scenario: Scenario;
  prefix: string;
  connections: number;
  durationSeconds: number;
}): Promise<LoadResult> {
  const { baseUrl, channel, scenario, prefix } = options;
  if (scenario === "alldup") {
    const status = await postOnce(
      baseUrl,
      payloadFor(channel, seedIdOf(prefix)),
    );
    if (status !== 201) {
      throw new Error(
        `Storing the seed message for ${channel}/${scenario} returned ${status}, expected 201`,
      );
    }
  }
  const nextId = messageIds(scenario, prefix);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: [
          {
            method: "POST",
            path: ENDPOINT,
            headers: { "content-type": "application/json" },
            setupRequest: (request) => ({
              ...request,
              body: payloadFor(channel, nextId()),
            }),
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });

  const sorted = Float64Array.from(latencies).sort();
  const durationSeconds = result.duration;
  return {
    requests: latencies.length,
    durationSeconds,
    rps: Math.round(latencies.length / durationSeconds),
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * Sends `copies` identical POSTs at once, each on its own connection so that
 * cluster workers share them, and returns the status of each.
 */
export async function postConcurrently(
  baseUrl: string,
  body: string,
  copies: number,
): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: copies });
  try {
    return await Promise.all(
      Array.from(
        { length: copies },
        () =>
          new Promise<number>((resolve, reject) => {
            const request = http.request(
              baseUrl + ENDPOINT,
              {
                method: "POST",
                agent,
                headers: {
                  "content-type": "application/json",
                  "content-length": Buffer.byteLength(body),
                },
              },
              (response) => {
                response.resume();
                response.on("end", () => resolve(response.statusCode ?? 0));
              },
            );
            request.on("error", reject);
            request.end(body);
          }),
      ),
    );
  } finally {
    agent.destroy();
  }
}

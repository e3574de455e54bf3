import { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Env } from "~/env.server";
import { logger } from "~/logger.server";
import type { RateLimitCheck } from "./context.server";
import { errorResult } from "./http";

/** The rate-limit hook of the ingest context and the Redis connection it uses. */
export interface RateLimiter {
  check: RateLimitCheck;
  /** "redis" when REDIS_URL is set (with memory as insurance), else "memory". */
  store: "redis" | "memory";
  /**
   * Resolves once Redis is connected, or after REDIS_CONNECT_WAIT_MS if it
   * is not, so the first requests after boot count in the shared store.
   */
  ready: Promise<void>;
  close: () => Promise<void>;
}

/** How long boot waits for Redis before it starts with the memory limiter. */
export const REDIS_CONNECT_WAIT_MS = 2000;

type RateLimitEnv = Pick<
  Env,
  | "REDIS_URL"
  | "RATE_LIMIT_POINTS"
  | "RATE_LIMIT_DURATION_SECONDS"
  | "RATE_LIMIT_KEY_PREFIX"
>;

/**
 * Builds the per-client, per-route limiter: RATE_LIMIT_POINTS requests per
 * RATE_LIMIT_DURATION_SECONDS for each (route, client IP) pair. With
 * REDIS_URL the counters live in Redis and are shared by every instance.
 * While Redis is unreachable each process counts in memory instead, so the
 * limit is per process until Redis returns and a request never fails
 * because of Redis.
 */
export function createRateLimiter(config: RateLimitEnv): RateLimiter {
  const options = {
    points: config.RATE_LIMIT_POINTS,
    duration: config.RATE_LIMIT_DURATION_SECONDS,
    keyPrefix: config.RATE_LIMIT_KEY_PREFIX,
  };
  const memory = new RateLimiterMemory(options);
  if (!config.REDIS_URL) {
    return {
      check: checkWith(memory, config),
      store: "memory",
      ready: Promise.resolve(),
      close: async () => {},
    };
  }

  const redis = new Redis(config.REDIS_URL, {
    // Commands fail at once while disconnected, so the memory limiter
    // decides instead of requests waiting for a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
  });
  watchRedis(redis, config.REDIS_URL);
  const limiter = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
  return {
    check: checkWith(limiter, config),
    store: "redis",
    ready: waitForRedis(redis),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function waitForRedis(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, REDIS_CONNECT_WAIT_MS);
    timer.unref();
    redis.once("ready", done);
    function done() {
      clearTimeout(timer);
      redis.removeListener("ready", done);
      resolve();
    }
  });
}

/** Logs each Redis outage once when it starts and once when it ends. */
function watchRedis(redis: Redis, url: string): void {
  let down = false;
  const location = redactRedisUrl(url);
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger.error(
      { err: error, redis: location },
      "Redis is unreachable; rate limits are counted per process in memory until it returns",
    );
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info(
      { redis: location },
      "Redis is reachable again; rate limits are shared",
    );
  });
}

function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

function checkWith(
  limiter: RateLimiterAbstract,
  config: RateLimitEnv,
): RateLimitCheck {
  return async (request, routeKey) => {
    const client = request.clientIp || "unknown";
    try {
      await limiter.consume(`${routeKey}:${client}`);
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // Both stores failed; letting the request through beats a 5xx.
        logger.error(
          { err: rejection, requestId: request.requestId },
          "rate limiter failed; request allowed",
        );
        return null;
      }
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      return errorResult(
        429,
        "rate_limited",
        "rate_limited",
        `Too many requests from ${client} to ${routeKey}: the limit is ` +
          `${config.RATE_LIMIT_POINTS} per ${config.RATE_LIMIT_DURATION_SECONDS} seconds. ` +
          `Retry after ${retryAfter} seconds.`,
        {
          headers: { "retry-after": String(retryAfter) },
          extra: { retryAfterSeconds: retryAfter },
        },
      );
    }
  };
}

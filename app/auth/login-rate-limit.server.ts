import { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type RateLimiterStoreAbstract,
} from "rate-limiter-flexible";
import type { Env } from "~/env.server";
import { logger } from "~/logger.server";

/**
 * Login attempt limits: LOGIN_RATE_LIMIT_POINTS attempts per client IP and
 * per email address in each 15-minute window, successful or not. A
 * successful login clears its email's count but not its IP's. The counters
 * live in Redis when REDIS_URL is set, so every instance shares them, and
 * in process memory otherwise. When Redis fails, each instance falls back to
 * its own memory counters until Redis responds again.
 */

export const LOGIN_RATE_LIMIT_WINDOW_SECONDS = 15 * 60;

/** How long boot waits for the first Redis connection. */
const REDIS_CONNECT_TIMEOUT_MS = 3000;
/** Minimum time between two logged Redis connection errors. */
const REDIS_ERROR_LOG_INTERVAL_MS = 60_000;

type LimiterConfig = Pick<
  Env,
  "LOGIN_RATE_LIMIT_POINTS" | "LOGIN_RATE_LIMIT_KEY_PREFIX" | "REDIS_URL"
>;

export interface LoginRateLimiter {
  /**
   * Counts one attempt for `ip` and `email`. Returns null when the attempt
   * may go on, or the seconds until the client may try again.
   */
  consume(ip: string, email: string): Promise<number | null>;
  /** Clears the count of `email` after a successful login. */
  reset(email: string): Promise<void>;
  close(): Promise<void>;
}

function memoryLimiter(points: number, keyPrefix: string): RateLimiterMemory {
  return new RateLimiterMemory({
    points,
    duration: LOGIN_RATE_LIMIT_WINDOW_SECONDS,
    keyPrefix,
  });
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    // Commands fail at once while disconnected, so the limiters switch to
    // their in-memory insurance instead of queueing logins.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  let lastLoggedAt = 0;
  redis.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastLoggedAt < REDIS_ERROR_LOG_INTERVAL_MS) return;
    lastLoggedAt = now;
    logger.error(
      { err: error },
      "Redis for login rate limits failed; counting attempts in memory until it reconnects",
    );
  });
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), REDIS_CONNECT_TIMEOUT_MS);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!(await ready)) {
    logger.warn(
      { timeoutMs: REDIS_CONNECT_TIMEOUT_MS },
      "Redis did not connect in time; login rate limits count in memory until it does",
    );
  }
  return redis;
}

function redisLimiter(
  redis: Redis,
  points: number,
  keyPrefix: string,
): RateLimiterStoreAbstract {
  return new RateLimiterRedis({
    storeClient: redis,
    points,
    duration: LOGIN_RATE_LIMIT_WINDOW_SECONDS,
    keyPrefix,
    insuranceLimiter: memoryLimiter(points, keyPrefix),
  });
}

/** Consumes one point; returns the seconds to wait when none are left. */
async function consumeOne(
  limiter: RateLimiterAbstract | RateLimiterStoreAbstract,
  key: string,
): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    }
    throw rejection;
  }
}

export async function createLoginRateLimiter(
  config: LimiterConfig,
): Promise<LoginRateLimiter> {
  const points = config.LOGIN_RATE_LIMIT_POINTS;
  const ipPrefix = `${config.LOGIN_RATE_LIMIT_KEY_PREFIX}:ip`;
  const emailPrefix = `${config.LOGIN_RATE_LIMIT_KEY_PREFIX}:email`;
  const redis = config.REDIS_URL ? await connectRedis(config.REDIS_URL) : null;
  const byIp = redis
    ? redisLimiter(redis, points, ipPrefix)
    : memoryLimiter(points, ipPrefix);
  const byEmail = redis
    ? redisLimiter(redis, points, emailPrefix)
    : memoryLimiter(points, emailPrefix);

  return {
    async consume(ip, email) {
      const ipWait = await consumeOne(byIp, ip);
      if (ipWait !== null) return ipWait;
      return consumeOne(byEmail, email);
    },
    async reset(email) {
      await byEmail.delete(email);
    },
    async close() {
      redis?.disconnect();
    },
  };
}

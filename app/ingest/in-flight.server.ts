/**
 * Counts the webhook requests the Remix resource route is handling, so a
 * shutdown under remix-serve can wait for their responses and request
 * records before it closes the database pool.
 */
let active = 0;
let idleWaiters: Array<() => void> = [];

/** Runs `handle` and counts it as in flight until it settles. */
export async function trackRequest<T>(handle: () => Promise<T>): Promise<T> {
  active++;
  try {
    return await handle();
  } finally {
    active--;
    if (active === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/**
 * Resolves true once no request is in flight, or false when `timeoutMs`
 * passes first.
 */
export function whenIdle(timeoutMs: number): Promise<boolean> {
  if (active === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

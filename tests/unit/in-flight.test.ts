import { expect, test } from "vitest";
import { trackRequest, whenIdle } from "../../app/ingest/in-flight.server";

test("idle at once without requests", async () => {
  expect(await whenIdle(10)).toBe(true);
});

test("waits for tracked request", async () => {
  let finish!: () => void;
  const request = trackRequest(
    () => new Promise<string>((resolve) => (finish = () => resolve("done"))),
  );
  const idle = whenIdle(5000);
  setTimeout(() => finish(), 20);
  expect(await idle).toBe(true);
  expect(await request).toBe("done");
});

test("times out while request runs", async () => {
  let finish!: () => void;
  const request = trackRequest(
    () => new Promise<void>((resolve) => (finish = resolve)),
  );
  expect(await whenIdle(20)).toBe(false);
  finish();
  await request;
  expect(await whenIdle(10)).toBe(true);
});

test("failed request still counts down", async () => {
  await expect(
    trackRequest(() => Promise.reject(new Error("boom"))),
  ).rejects.toThrow("boom");
  expect(await whenIdle(10)).toBe(true);
});

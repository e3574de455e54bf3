import { expect, test } from "vitest";
import { runLoad } from "../../scripts/load";
import { serverUrl } from "../support/database";

test("short load run stores exactly the 201s", async () => {
  const report = await runLoad({
    durationSeconds: 3,
    connections: 20,
    duplicateRatio: 0.1,
    databaseServerUrl: serverUrl(),
  });
  expect(report.mismatches).toEqual([]);
  expect(report.serverErrors).toBe(0);
  expect(report.connectionErrors).toBe(0);
  expect(report.statuses["201"]).toBeGreaterThan(0);
  expect(report.statuses["409"]).toBeGreaterThan(0);
  const answered = Object.values(report.statuses).reduce((a, b) => a + b, 0);
  expect(answered).toBe(report.statuses["201"] + report.statuses["409"]);
  expect(report.storedRows).toBe(report.statuses["201"] + report.unanswered);
  expect(report.unanswered).toBeLessThanOrEqual(20);
});

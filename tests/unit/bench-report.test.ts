import { describe, expect, test } from "vitest";
import type { LoadResult } from "../../bench/load";
import {
  checkTargets,
  medianLoad,
  renderMarkdown,
  type BenchReport,
  type ScaleResult,
} from "../../bench/report";

function load(rps: number, p99 = 20): LoadResult {
  return {
    requests: rps * 10,
    durationSeconds: 10,
    rps,
    p50: p99 / 2,
    p95: p99 - 1,
    p99,
    statuses: { "201": rps * 10 },
    errors: 0,
    timeouts: 0,
  };
}

function scaleRun(
  processes: number,
  unique: number[],
  duplicates: number[],
): ScaleResult {
  return {
    processes,
    rounds: unique.map((rps, i) => ({
      unique: load(rps, 10 + i),
      duplicates: load(duplicates[i], 5 + i),
    })),
    dedup: { copies: 100, created: 1, duplicates: 99, other: 0, rows: 1 },
  };
}

function reportOf(
  scale: ScaleResult[],
  scaleRedis: string | null,
): BenchReport {
  return {
    measuredAt: "2026-12-04T21:00:00.000Z",
    machine: {
      cpu: "test cpu",
      cores: 2,
      memoryGiB: 24,
      os: "Linux",
      node: "v20",
      postgres: "15",
      loadAverageAtStart: [0.1, 0.1, 0.1],
    },
    settings: {
      connections: 50,
      durationSeconds: 10,
      poolSize: 10,
      quick: false,
      command: "npm run bench -- --processes 1,2",
      scaleRedis,
    },
    cases: [],
    scale,
    checks: checkTargets([], scale),
  };
}

describe("medianLoad", () => {
  test("median run keeps its latency", () => {
    const median = medianLoad([load(5000, 30), load(4000, 20), load(6000, 40)]);
    expect(median.rps).toBe(5000);
    expect(median.p99).toBe(30);
  });

  test("even count takes lower middle", () => {
    expect(medianLoad([load(10), load(40), load(30), load(20)]).rps).toBe(20);
  });

  test("empty list is rejected", () => {
    expect(() => medianLoad([])).toThrow(/at least one/);
  });
});

describe("scale-out targets", () => {
  test("growth compares medians", () => {
    const checks = checkTargets(
      [],
      [
        scaleRun(1, [4000, 5000, 4500], [7000, 8000, 7500]),
        // One fast outlier round does not make the median grow.
        scaleRun(2, [4400, 9000, 4200], [7400, 7700, 7600]),
      ],
    );
    const growth = checks.filter(
      (check) => check.target === "throughput grows with processes",
    );
    expect(growth).toEqual([
      {
        target: "throughput grows with processes",
        subject: "2 vs 1 process, unique messages",
        value: "4400 vs 4500 req/s (-2.2 %)",
        pass: false,
      },
      {
        target: "throughput grows with processes",
        subject: "2 vs 1 process, all duplicates",
        value: "7600 vs 7500 req/s (+1.3 %)",
        pass: true,
      },
    ]);
  });

  test("no growth without one process", () => {
    const checks = checkTargets([], [scaleRun(2, [4000], [7000])]);
    expect(checks.map((check) => check.target)).toEqual([
      "dedup exact across processes",
    ]);
  });

  test("second stored row fails dedup", () => {
    const run = scaleRun(2, [4000], [7000]);
    run.dedup = { copies: 100, created: 2, duplicates: 98, other: 0, rows: 2 };
    const [check] = checkTargets([], [run]);
    expect(check).toMatchObject({
      subject: "2 processes",
      value: "2 × 201, 98 × 409, 2 row",
      pass: false,
    });
  });

  test("markdown shows rounds and growth", () => {
    const markdown = renderMarkdown(
      reportOf(
        [
          scaleRun(1, [4000, 5000, 4500], [7000, 8000, 7500]),
          scaleRun(2, [5400, 5200, 5600], [9000, 8800, 9100]),
        ],
        "redis://127.0.0.1:6379",
      ),
    );
    expect(markdown).toContain("median of 3 rounds");
    expect(markdown).toContain(
      "in one Redis shared by the workers (redis://127.0.0.1:6379)",
    );
    expect(markdown).toContain(
      "| 2 | 5400, 5200, 5600 | 5400 | +20.0 % | 5 / 9 / 10 |",
    );
    expect(markdown).toContain("| 2 | 9000, 8800, 9100 | 9000 | +20.0 % |");
    expect(markdown).toContain(
      "| throughput grows with processes | 2 vs 1 process, all duplicates | 9000 vs 7500 req/s (+20.0 %) | pass |",
    );
  });

  test("markdown names memory rate limits", () => {
    const markdown = renderMarkdown(
      reportOf([scaleRun(1, [4000], [7000])], null),
    );
    expect(markdown).toContain("in each worker's memory");
    expect(markdown).toContain("median of 1 round;");
  });
});

describe("CPU columns", () => {
  function withCpu(result: LoadResult, machine?: number): LoadResult {
    return {
      ...result,
      cpu: {
        msPerRequest: { app: 0.12, postgres: 0.08, client: 0.03, redis: 0.01 },
        cores: {
          app: 0.77,
          postgres: 0.48,
          client: 0.21,
          redis: 0.05,
          machine,
        },
        machineCores: 2,
      },
    };
  }

  test("scale table shows machine busy", () => {
    const run = scaleRun(1, [4000], [7000]);
    run.rounds[0].unique = withCpu(run.rounds[0].unique, 1.93);
    const markdown = renderMarkdown(reportOf([run], null));
    expect(markdown).toContain(
      "| 1 | 4000 | 4000 | +0.0 % | 5 / 9 / 10 | 0.77 / 0.48 / 0.21 / 0.05 | 1.93 of 2 |",
    );
  });

  test("older results lack machine busy", () => {
    const run = scaleRun(1, [4000], [7000]);
    const unique = withCpu(run.rounds[0].unique);
    delete unique.cpu!.cores.redis;
    run.rounds[0].unique = unique;
    const markdown = renderMarkdown(reportOf([run], null));
    expect(markdown).toContain("| 0.77 / 0.48 / 0.21 / – | not measured |");
  });
});

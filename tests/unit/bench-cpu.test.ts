import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cpuAccountingAvailable, withCpuUsage } from "../../bench/cpu";

/** Keeps this process busy until it has used `ms` more milliseconds of CPU. */
function spin(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe.runIf(cpuAccountingAvailable())("withCpuUsage", () => {
  // A stand-in for the server under test that burns CPU until it is killed.
  let busyChild: ReturnType<typeof spawn>;

  beforeAll(async () => {
    busyChild = spawn(process.execPath, ["-e", "for (;;) {}"], {
      stdio: "ignore",
    });
    await once(busyChild, "spawn");
  });

  afterAll(() => {
    busyChild.kill("SIGKILL");
  });

  test("splits CPU between app and client", async () => {
    const result = await withCpuUsage(busyChild.pid!, async () => {
      spin(400);
      await new Promise((resolve) => setTimeout(resolve, 400));
      return { requests: 100 };
    });

    expect(result.requests).toBe(100);
    const cpu = result.cpu!;
    // 100 requests share the 400 ms of CPU the client spun: 4 ms each.
    expect(cpu.msPerRequest.client).toBeGreaterThanOrEqual(3.9);
    expect(cpu.msPerRequest.client).toBeLessThan(5);
    // The run lasts at least 800 ms, so the client used at most half a core.
    expect(cpu.cores.client).toBeGreaterThan(0.1);
    expect(cpu.cores.client).toBeLessThanOrEqual(0.55);
    // The child spins through the whole run, sharing the cores with us.
    expect(cpu.cores.app).toBeGreaterThan(0.3);
    expect(cpu.machineCores).toBeGreaterThan(0);
    // The machine total includes both processes, and tick rounding of about
    // 0.02 core per reading.
    const machine = cpu.cores.machine!;
    expect(machine).toBeGreaterThanOrEqual(
      cpu.cores.app + cpu.cores.client - 0.05,
    );
    expect(machine).toBeLessThanOrEqual(cpu.machineCores + 0.05);
    expect(cpu.cores.redis).toBeGreaterThanOrEqual(0);
  });

  test("counts workers that exit mid-run", async () => {
    // On a signal the root runs a worker that spins for 300 ms of CPU and
    // exits, so the worker lives only inside the measured run.
    const worker =
      "const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if (u.user + u.system >= 300000) break; }";
    const root = spawn(
      process.execPath,
      [
        "-e",
        `process.once("SIGUSR2", () => require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(worker)}]).once("exit", () => console.log("worker exited")));` +
          "setInterval(() => {}, 1000);",
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    await once(root, "spawn");
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      const result = await withCpuUsage(root.pid!, async () => {
        root.kill("SIGUSR2");
        await once(root.stdout!, "data");
        return { requests: 1 };
      });
      // The worker's 300 ms, plus the startup of its Node process.
      expect(result.cpu!.msPerRequest.app).toBeGreaterThanOrEqual(290);
    } finally {
      root.kill("SIGKILL");
    }
  });

  test("counts no CPU for an idle app", async () => {
    const idle = spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)"], {
      stdio: "ignore",
    });
    await once(idle, "spawn");
    try {
      // Startup CPU of the idle process is spent before the first snapshot.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const result = await withCpuUsage(idle.pid!, async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { requests: 10 };
      });
      expect(result.cpu!.cores.app).toBeLessThan(0.1);
    } finally {
      idle.kill("SIGKILL");
    }
  });
});

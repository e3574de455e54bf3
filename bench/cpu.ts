import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/**
 * CPU time spent during one load run, split by who spent it. Read from
 * /proc, so it is measured on Linux only. PostgreSQL counts every process
 * named `postgres` on this machine, and Redis every `redis-server`, which
 * are the benchmark's servers only when they are local.
 */
export interface CpuUsage {
  /**
   * CPU milliseconds per request: server under test, PostgreSQL, load
   * generator and every `redis-server` process. `redis` is absent in results
   * written before it was measured.
   */
  msPerRequest: {
    app: number;
    postgres: number;
    client: number;
    redis?: number;
  };
  /**
   * Average cores busy during the run, same split. `machine` counts every
   * core's non-idle time from /proc/stat, kernel work included, so
   * `machineCores - machine` is the CPU left idle. Both optional fields are
   * absent in results written before they were measured.
   */
  cores: {
    app: number;
    postgres: number;
    client: number;
    redis?: number;
    machine?: number;
  };
  /** Cores of the machine, for reading `cores` against. */
  machineCores: number;
}

const TICKS_PER_SECOND = 100;

interface ProcessStat {
  pid: number;
  parentPid: number;
  command: string;
  /** CPU time of the process itself. */
  cpuSeconds: number;
  /** CPU time of its children that exited and were waited for. */
  exitedChildrenCpuSeconds: number;
}

/** Parses /proc/<pid>/stat; the command may contain spaces and parentheses. */
function readStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // Fields after the command start at field 3 (state). utime and stime are
  // fields 14 and 15, cutime and cstime 16 and 17, in clock ticks of 1/100 s
  // on Linux (proc(5)).
  return {
    pid,
    parentPid: Number(fields[1]),
    command: text.slice(open + 1, close),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    exitedChildrenCpuSeconds:
      (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND,
  };
}

function allProcesses(): ProcessStat[] {
  const stats: ProcessStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

interface Snapshot {
  app: number;
  postgres: number;
  client: number;
  redis: number;
  machine: number;
  at: number;
}

/**
 * Returns the CPU seconds all cores spent outside idle and iowait since boot,
 * from the first line of /proc/stat (fields in clock ticks, proc(5)).
 */
function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  // Fields: user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * Sums the CPU seconds of `appPid` and its child processes (cluster
 * workers), of all postgres processes, and of this process. Processes that
 * exit during a run would drop out of the sum, so each tree's root adds the
 * CPU time of its exited children: the postmaster's covers the backends that
 * closed, the cluster primary's the workers that died.
 */
function snapshot(appPid: number): Snapshot {
  // A child reaped while /proc is being read would be missed, or counted
  // twice, so the scan is repeated until no root's count of exited-children
  // time changed during it.
  for (let attempt = 1; ; attempt++) {
    const processes = allProcesses();
    const roots = rootsOf(processes, appPid);
    const changed = roots.some(
      (root) =>
        readStat(root.pid)?.exitedChildrenCpuSeconds !==
        root.exitedChildrenCpuSeconds,
    );
    if (!changed || attempt === 5) return sumSnapshot(processes, appPid);
  }
}

function postgresPidsOf(processes: ProcessStat[]): Set<number> {
  return new Set(
    processes
      .filter((stat) => stat.command === "postgres")
      .map((stat) => stat.pid),
  );
}

/** Returns the app process and the postmaster: the roots whose children exit. */
function rootsOf(processes: ProcessStat[], appPid: number): ProcessStat[] {
  const postgresPids = postgresPidsOf(processes);
  return processes.filter(
    (stat) =>
      stat.pid === appPid ||
      // The postmaster is the postgres process whose parent is not one.
      (postgresPids.has(stat.pid) && !postgresPids.has(stat.parentPid)),
  );
}

function sumSnapshot(processes: ProcessStat[], appPid: number): Snapshot {
  const postgresPids = postgresPidsOf(processes);
  let app = 0;
  let postgres = 0;
  let redis = 0;
  for (const stat of processes) {
    if (stat.command === "redis-server") {
      redis += stat.cpuSeconds;
    } else if (stat.pid === appPid) {
      app += stat.cpuSeconds + stat.exitedChildrenCpuSeconds;
    } else if (stat.parentPid === appPid) {
      // Workers are direct children of the cluster primary.
      app += stat.cpuSeconds;
    } else if (postgresPids.has(stat.pid)) {
      postgres += stat.cpuSeconds;
      if (!postgresPids.has(stat.parentPid)) {
        postgres += stat.exitedChildrenCpuSeconds;
      }
    }
  }
  const own = process.cpuUsage();
  return {
    app,
    postgres,
    client: (own.user + own.system) / 1e6,
    redis,
    machine: machineBusySeconds(),
    at: performance.now(),
  };
}

/** True where /proc exposes process CPU times. */
export function cpuAccountingAvailable(): boolean {
  return process.platform === "linux" && readStat(process.pid) !== null;
}

/**
 * Runs `load` and returns its result with the CPU time that the app
 * process tree, PostgreSQL and this process spent meanwhile.
 */
export async function withCpuUsage<Result extends { requests: number }>(
  appPid: number,
  load: () => Promise<Result>,
): Promise<Result & { cpu?: CpuUsage }> {
  if (!cpuAccountingAvailable()) return load();
  const before = snapshot(appPid);
  const result = await load();
  const after = snapshot(appPid);
  const seconds = (after.at - before.at) / 1000;
  const requests = Math.max(result.requests, 1);
  const spent = {
    app: after.app - before.app,
    postgres: after.postgres - before.postgres,
    client: after.client - before.client,
    redis: after.redis - before.redis,
    machine: after.machine - before.machine,
  };
  const perRequest = (cpuSeconds: number) =>
    Math.round((cpuSeconds * 1e6) / requests) / 1000;
  const cores = (cpuSeconds: number) =>
    Math.round((cpuSeconds / seconds) * 100) / 100;
  return {
    ...result,
    cpu: {
      msPerRequest: {
        app: perRequest(spent.app),
        postgres: perRequest(spent.postgres),
        client: perRequest(spent.client),
        redis: perRequest(spent.redis),
      },
      cores: {
        app: cores(spent.app),
        postgres: cores(spent.postgres),
        client: cores(spent.client),
        redis: cores(spent.redis),
        machine: cores(spent.machine),
      },
      machineCores: os.cpus().length,
    },
  };
}

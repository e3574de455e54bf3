import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";

/** A PostgreSQL server of a test's own, which the test may stop and start. */
export interface PostgresInstance {
  url: string;
  port: number;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Sends SIGSTOP (freeze) or SIGCONT (resume) to every server process. */
  signal: (signal: "SIGSTOP" | "SIGCONT") => Promise<void>;
  destroy: () => Promise<void>;
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null)
    throw new Error("could not read the port of a probe server");
  return address.port;
}

/**
 * PostgreSQL refuses to run as root, so the binaries run as the `postgres`
 * user on a data directory that user owns.
 */
function asPostgres(binary: string, args: string[]) {
  return run("runuser", [
    "-u",
    "postgres",
    "--",
    path.join(BIN, binary),
    ...args,
  ]);
}

/**
 * Creates a cluster with initdb in a temporary directory and starts it on a
 * free port on 127.0.0.1 with trust authentication for user postgres.
 */
export async function startPostgresInstance(): Promise<PostgresInstance> {
  const dir = await mkdtemp(path.join(tmpdir(), "inbox-pg-"));
  await chown(dir, ...(await postgresIds()));
  const dataDir = path.join(dir, "data");
  await asPostgres("initdb", [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "--no-sync",
  ]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await asPostgres("pg_ctl", [
      "-D",
      dataDir,
      "-o",
      options,
      "-l",
      path.join(dir, "server.log"),
      "-w",
      "start",
    ]);
  };
  const stop = async () => {
    await asPostgres("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    signal: async (signal) => {
      // Every process of this cluster has the data directory on its command
      // line (the postmaster) or is a child of the postmaster.
      const { stdout } = await run("head", [
        "-1",
        path.join(dataDir, "postmaster.pid"),
      ]);
      const postmaster = stdout.trim();
      const children = await run("pgrep", ["-P", postmaster]).then(
        (result) => result.stdout.split("\n").filter(Boolean),
        () => [],
      );
      await run("kill", [`-${signal.slice(3)}`, postmaster, ...children]);
    },
    destroy: async () => {
      await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<[number, number]> {
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  return [uid, gid];
}

import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop: () => Promise<void>;
}

/** The file in the data directory that names the process using it. */
export const LOCK_FILE = "inbox.lock";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Creates `dataDir/inbox.lock` containing this process's id, and returns a
 * function that removes it. PGlite keeps its data in this process's memory
 * and writes it back on its own schedule, so a second process on the same
 * directory (a seed script next to the running server) loses rows or
 * damages the directory. Raises an error naming the other process when it
 * still runs. A lock left by a process that exited is taken over.
 *
 * NOTE: a lock left by a crashed process whose id was reused by an
 * unrelated running process has to be deleted by hand.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const text = await readFile(lockPath, "utf8").catch(() => "");
    const owner = Number(text.trim());
    if (
      Number.isInteger(owner) &&
      owner > 0 &&
      owner !== process.pid &&
      isRunning(owner)
    ) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${owner}. ` +
          "PGlite serves one process at a time, so stop that process (the server, " +
          "or a script such as npm run db:seed) and retry, or set DATABASE_URL " +
          "to a PostgreSQL server, which several processes can share.",
      );
    }
    // The process that wrote the lock has exited without removing it.
    await rm(lockPath, { force: true });
  }
  throw new Error(`Could not create the lock file ${lockPath}; retry.`);
}

/**
 * Starts PGlite on `dataDir` and serves it over the PostgreSQL wire protocol
 * on 127.0.0.1, so `pg` and the Prisma adapter connect as to any server.
 * Port 0 lets the operating system pick a free port. The directory is
 * locked for this process until `stop` (see lockDataDir).
 */
export async function startEmbeddedDatabase(options: {
  dataDir: string;
  port: number;
  maxConnections?: number;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir, extensions: { pg_trgm } });
  } catch (error) {
    await unlock();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Opening the embedded database in ${dataDir} failed (${reason}). ` +
        "If another process wrote to it at the same time, or it was copied " +
        "while in use, restore it from a backup, or move it aside to start " +
        "with an empty database.",
      { cause: error },
    );
  }
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: options.port,
    maxConnections: options.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    await unlock();
    throw error;
  }
  const address = server.getServerConn();
  const port = Number(address.split(":").pop());
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    dataDir,
    stop: async () => {
      await server.stop();
      await db.close();
      await unlock();
    },
  };
}

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * The embedded PostgreSQL of `bun run start` and `bun run drill`: PGlite (PostgreSQL compiled to
 * WebAssembly) behind its socket server, so storagesvc speaks the real wire protocol through
 * postgres.js exactly as against a real server. It runs in a child process of its own because
 * PGlite executes queries synchronously on its thread: in the launcher it would stall the keys,
 * and in the drill it would distort the latencies the load generator measures.
 *
 * PGlite's fixed identity: user `postgres`, password ignored, database `postgres`.
 */
export const PGLITE_USER = "postgres";
export const PGLITE_DATABASE = "postgres";

export interface PgliteServerOptions {
  /** On-disk data directory; the first start runs initdb there (seconds), later ones take ~0.5 s. */
  dataDir: string;
  host: string;
  port: number;
  /**
   * Concurrent client connections. The socket server accepts one by default and queues the others,
   * which makes a postgres.js pool hang: size it to the client's pool (plus room for a probe).
   */
  maxConnections: number;
}

export function databaseUrl(host: string, port: number): string {
  return `postgres://${PGLITE_USER}:${PGLITE_USER}@${host}:${port}/${PGLITE_DATABASE}`;
}

/**
 * Takes `<dataDir>.lock` for this process: two PGlite processes on one data directory would
 * corrupt it. A lock left by a process that no longer exists is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  try {
    const owner = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new Error(`${dataDir} is in use by process ${owner} (another \`bun run start\` or drill?)`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Serves the database until `signal` aborts, then closes it cleanly (flushing to disk). */
export async function servePglite(
  options: PgliteServerOptions,
  signal: AbortSignal,
  log: (fields: Record<string, unknown>) => void,
): Promise<void> {
  mkdirSync(join(options.dataDir, ".."), { recursive: true });
  const unlock = lockDataDir(options.dataDir);
  try {
    const started = performance.now();
    const db = await PGlite.create(options.dataDir);
    const server = new PGLiteSocketServer({
      db,
      host: options.host,
      port: options.port,
      maxConnections: options.maxConnections,
    });
    try {
      await server.start();
      log({
        level: "info",
        msg: "listening",
        port: options.port,
        data_dir: options.dataDir,
        max_connections: options.maxConnections,
        startup_ms: Math.round(performance.now() - started),
      });
      if (!signal.aborted) {
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      }
    } finally {
      await server.stop();
      await db.close();
    }
  } finally {
    unlock();
  }
}

function logLine(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ app: "pglite", time: new Date().toISOString(), ...fields })}\n`);
}

async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.PGLITE_PORT);
  const maxConnections = Number(env.PGLITE_MAX_CONNECTIONS ?? "11");
  if (!env.PGLITE_DATA_DIR || !Number.isInteger(port) || port <= 0 || !Number.isInteger(maxConnections)) {
    process.stderr.write("pglite: PGLITE_DATA_DIR, PGLITE_PORT (1-65535) and PGLITE_MAX_CONNECTIONS are required\n");
    process.exit(2);
  }
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    logLine({ level: "info", msg: "stopping", signal });
    stop.abort(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await servePglite(
      { dataDir: env.PGLITE_DATA_DIR, host: env.PGLITE_HOST ?? "127.0.0.1", port, maxConnections },
      stop.signal,
      logLine,
    );
    logLine({ level: "info", msg: "stopped" });
    process.exit(0);
  } catch (error) {
    logLine({ level: "fatal", msg: "failed", err: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

if (import.meta.main) await main();

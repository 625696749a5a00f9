import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, definedEnv } from "./child.ts";
import { freePort } from "./free-port.ts";
import { asPostgresUser, isRoot, postgresIds } from "./pg-cluster.ts";
import { waitUntil } from "./wait.ts";

export interface ThrowawayPgBouncer {
  readonly port: number;
  /** `postgres://<user>@127.0.0.1:<port>/<database>`, plus `query` (e.g. `prepare=false`). */
  url(database: string, options?: { user?: string; query?: string }): string;
  /** The ini file it runs with, and its log, for failure messages. */
  readonly iniFile: string;
  logTail(lines?: number): Promise<string>;
  /** Stops it and removes its directory. Idempotent. */
  close(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The PostgreSQL it pools (loopback). */
  serverPort: number;
  poolMode?: "session" | "transaction" | "statement";
  /** Server connections per (database, user) pair. */
  poolSize?: number;
  /** Users it lets in (trust auth: names only, as PgBouncer wants them listed). */
  users?: string[];
}

/**
 * A throwaway PgBouncer (Debian's `pgbouncer`) on a free loopback port, with its own ini, user
 * list, log and pid file in a temp dir, pooling every database of a PostgreSQL on `serverPort`.
 * Trust auth on both sides: tests use throwaway clusters. It refuses to run as root, so as root it
 * runs as `postgres`. `close()` in afterAll/finally.
 */
export async function startThrowawayPgBouncer(options: PgBouncerOptions): Promise<ThrowawayPgBouncer> {
  const { serverPort, poolMode = "transaction", poolSize = 10, users = ["postgres"] } = options;
  const dir = mkdtempSync(join(tmpdir(), "pgbouncer-"));
  if (isRoot()) chownSync(dir, ...postgresIds());
  const iniFile = join(dir, "pgbouncer.ini");
  const logFile = join(dir, "pgbouncer.log");
  writeFileSync(join(dir, "userlist.txt"), users.map((user) => `"${user}" ""\n`).join(""), { mode: 0o644 });

  let child: Child | undefined;
  let port = 0;
  const stop = async () => {
    await child?.stop(3_000, "SIGTERM");
    child = undefined;
  };
  try {
    // The free port can be taken between the probe and PgBouncer's bind: try a few.
    for (let tries = 1; ; tries++) {
      port = await freePort();
      writeFileSync(iniFile, pgbouncerIni({ dir, port, serverPort, poolMode, poolSize, logFile }), { mode: 0o644 });
      const started = Child.start({
        name: `pgbouncer:${port}`,
        command: asPostgresUser(["pgbouncer", iniFile]),
        env: definedEnv({ PATH: process.env.PATH, HOME: process.env.HOME }),
      });
      child = started;
      try {
        await waitUntil(`pgbouncer on port ${port} did not accept connections`, () => acceptsTcp(port), {
          timeoutMs: 5_000,
          child: started,
          intervalMs: 20,
        });
        break;
      } catch (error) {
        await stop();
        if (tries >= 3) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let closed = false;
  return {
    port,
    iniFile,
    url(database, { user = "postgres", query } = {}) {
      return `postgres://${user}@127.0.0.1:${port}/${database}${query ? `?${query}` : ""}`;
    },
    async logTail(lines = 30) {
      const file = Bun.file(logFile);
      return (await file.exists()) ? (await file.text()).split("\n").slice(-lines).join("\n") : "";
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ini: one wildcard database entry forwarding every database name to the server. */
export function pgbouncerIni(o: {
  dir: string;
  port: number;
  serverPort: number;
  poolMode: string;
  poolSize: number;
  logFile: string;
}): string {
  return `[databases]
* = host=127.0.0.1 port=${o.serverPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${o.port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(o.dir, "userlist.txt")}
pool_mode = ${o.poolMode}
default_pool_size = ${o.poolSize}
max_client_conn = 1000
logfile = ${o.logFile}
pidfile = ${join(o.dir, "pgbouncer.pid")}
; postgres.js sends only parameters PgBouncer tracks (client_encoding, application_name), but
; other clients of a test cluster (psql) may send these.
ignore_startup_parameters = extra_float_digits,options
`;
}

async function acceptsTcp(port: number): Promise<true | string> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

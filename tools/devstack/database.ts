import { redactUrl } from "../../internal/logging/redact.ts";
import { type FaultProxy, startFaultProxy } from "../faultproxy/index.ts";
import type { LineHandler } from "../kit/child.ts";
import { freePort } from "../kit/free-port.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";

export interface DatabaseOptions {
  /** `DATABASE_URL` set = the user's database; else the embedded PGlite. */
  env: Record<string, string | undefined>;
  /** Data directory of the embedded database. */
  dataDir: string;
  /** Connections the embedded database accepts: every client's pool, plus room for reconnects. */
  maxConnections: number;
  onLine?: LineHandler;
}

/**
 * The dev stack's database: the user's (`DATABASE_URL`) or an embedded PGlite in a child process,
 * always behind a fault proxy, so "the database is down" is the proxy refusing connections and never
 * a stopped server, whichever database it is.
 */
export interface Database {
  /** The database as a human should read it (password masked). */
  readonly display: string;
  readonly embedded: boolean;
  /** What the services connect through; `cut()` takes the database down. */
  readonly proxy: FaultProxy;
  /** URL of the database through its proxy. */
  readonly url: string;
  /** Resolves once the database accepts connections (the embedded one's initdb can take seconds). */
  readonly ready: Promise<void>;
  /** Closes the proxy and stops the embedded database. */
  stop(): Promise<void>;
}

export async function startDatabase(options: DatabaseOptions): Promise<Database> {
  let target: { host: string; port: number };
  let display: string;
  let embedded: EmbeddedPostgres | undefined;
  let url: URL;
  const external = options.env.DATABASE_URL;
  if (external) {
    url = new URL(external);
    target = { host: url.hostname || "127.0.0.1", port: Number(url.port || 5432) };
    display = redactUrl(external);
  } else {
    const port = await freePort();
    embedded = startEmbeddedPostgres({
      dataDir: options.dataDir,
      port,
      maxConnections: options.maxConnections,
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
    url = new URL(embedded.url);
    target = { host: "127.0.0.1", port };
    display = `embedded PGlite (${options.dataDir})`;
  }

  let proxy: FaultProxy;
  try {
    proxy = await startFaultProxy({ target });
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  const pglite = embedded;
  return {
    display,
    embedded: pglite !== undefined,
    proxy,
    url: url.toString(),
    ready: pglite?.ready ?? Promise.resolve(),
    async stop() {
      await proxy.close();
      await pglite?.stop();
    },
  };
}

import { join } from "node:path";
import { Child, type LineHandler } from "../kit/child.ts";
import { databaseUrl } from "./pglite-server.ts";

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** A free port chosen by the caller, so a proxy can be put in front before the database is up. */
  port: number;
  maxConnections: number;
  onLine?: LineHandler;
}

export interface EmbeddedPostgres {
  readonly child: Child;
  /** Direct URL (no proxy). */
  readonly url: string;
  readonly port: number;
  /** Resolves once it accepts connections (initdb on the first start can take several seconds). */
  readonly ready: Promise<void>;
  stop(): Promise<number>;
}

const SERVER_ENTRY = join(import.meta.dir, "pglite-server.ts");
/** First start runs initdb: 3–10 s on a busy 2-core machine. */
const READY_TIMEOUT_MS = 60_000;

/** Starts PGlite in a child process (see pglite-server.ts) without waiting for it. */
export function startEmbeddedPostgres(options: EmbeddedPostgresOptions): EmbeddedPostgres {
  const child = Child.start({
    name: "pglite",
    command: [process.execPath, SERVER_ENTRY],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PGLITE_DATA_DIR: options.dataDir,
      PGLITE_HOST: "127.0.0.1",
      PGLITE_PORT: String(options.port),
      PGLITE_MAX_CONNECTIONS: String(options.maxConnections),
    },
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  const ready = child
    .waitForLine((line) => line.includes('"msg":"listening"'), READY_TIMEOUT_MS)
    .then(() => undefined);
  // The caller awaits `ready` later; this keeps an early failure from counting as unhandled meanwhile.
  ready.catch(() => {});
  return {
    child,
    url: databaseUrl("127.0.0.1", options.port),
    port: options.port,
    ready,
    stop: () => child.stop(),
  };
}

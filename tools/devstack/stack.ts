import { join } from "node:path";
import { type FaultProxy, startFaultProxy } from "../faultproxy/index.ts";
import { Child, definedEnv, type LineHandler } from "../kit/child.ts";
import { freePort } from "../kit/free-port.ts";
import { waitForHttp } from "../kit/wait.ts";
import { startDatabase } from "./database.ts";

/**
 * The whole bookstore on one machine, shared by `bun run start`, `bun run drill` and the e2e tests:
 *
 *   clients ─▶ booksvc :8081 ─▶ storagesvc proxy :8082 ─▶ storagesvc (internal port)
 *                                                          └─▶ database proxy ─▶ PostgreSQL
 *
 * The public storagesvc port belongs to its fault proxy, so `s` (storagesvc down) looks the same to
 * booksvc and to a user's curl. storagesvc reaches the database only through the database proxy,
 * so a database outage is the same thing whether it is the embedded PGlite or the user's server.
 */
export interface StackOptions {
  /** Repository root; services start as `bun <root>/cmd/<svc>/main.ts`. */
  root: string;
  /** Base environment of the children (usually `process.env`). `DATABASE_URL` set = no embedded database. */
  env: Record<string, string | undefined>;
  /** Data directory of the embedded database. */
  dataDir: string;
  /** Public storagesvc port (its fault proxy); 0 = a free one. */
  storagesvcPort: number;
  /** Address the public proxies listen on. */
  publicHost: string;
  /** Every output line of every child. */
  onLine?: (service: string, line: string, stream: "stdout" | "stderr") => void;
}

export interface StartBooksvcOptions {
  /** 0 = a free port. */
  port: number;
  /** Added to (and overriding) the base environment. */
  env?: Record<string, string>;
  /** Name in logs; default `booksvc`. */
  name?: string;
}

export interface RunningBooksvc {
  readonly child: Child;
  readonly port: number;
  readonly url: string;
  stop(): Promise<number>;
}

export interface Stack {
  /** The database as a human should read it (password masked). */
  readonly database: { readonly display: string; readonly embedded: boolean };
  readonly dbProxy: FaultProxy;
  readonly storagesvcProxy: FaultProxy;
  readonly storagesvc: Child;
  /** storagesvc as booksvc sees it: through its proxy. */
  readonly storagesvcUrl: string;
  /** Resolves when the database answers and storagesvc is ready. */
  readonly ready: Promise<void>;
  startBooksvc(options: StartBooksvcOptions): Promise<RunningBooksvc>;
  /** Stops every child (booksvc first, the database last) and closes the proxies. */
  stop(): Promise<void>;
}

const DEFAULT_POOL_MAX = 10;
const READY_TIMEOUT_MS = 60_000;

function childEnv(base: Record<string, string | undefined>, extra: Record<string, string>): Record<string, string> {
  return { ...definedEnv(base), ...extra };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const onLine = (service: string): LineHandler => (line, stream) => options.onLine?.(service, line, stream);
  const poolMax = Number(options.env.DB_POOL_MAX ?? DEFAULT_POOL_MAX) || DEFAULT_POOL_MAX;
  const cleanups: Array<() => Promise<unknown>> = [];
  const booksvcs = new Set<RunningBooksvc>();

  async function stop(): Promise<void> {
    await Promise.all([...booksvcs].map((b) => b.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  }

  try {
    // 1. The database (the user's, or PGlite in a child process) behind the proxy storagesvc goes
    // through. The pool, plus room for a connection postgres.js opens while an old one is closing.
    const db = await startDatabase({
      env: options.env,
      dataDir: options.dataDir,
      maxConnections: poolMax + 2,
      onLine: onLine("pglite"),
    });
    cleanups.push(() => db.stop());
    const database = { display: db.display, embedded: db.embedded };
    const dbProxy = db.proxy;

    // 2. storagesvc on an internal port, started without waiting for the database: it keeps trying.
    const storagesvcPort = await freePort("0.0.0.0");
    const storagesvc = Child.start({
      name: "storagesvc",
      command: [process.execPath, join(options.root, "cmd/storagesvc/main.ts")],
      cwd: options.root,
      env: childEnv(options.env, {
        HTTP_PORT: String(storagesvcPort),
        DATABASE_URL: db.url,
        DB_POOL_MAX: String(poolMax),
      }),
      onLine: onLine("storagesvc"),
    });
    cleanups.push(() => storagesvc.stop());

    // 3. Its public face: the storagesvc proxy.
    const storagesvcProxy = await startFaultProxy({
      target: { host: "127.0.0.1", port: storagesvcPort },
      host: options.publicHost,
      port: options.storagesvcPort,
    });
    cleanups.push(() => storagesvcProxy.close());
    const storagesvcUrl = `http://127.0.0.1:${storagesvcProxy.port}`;

    const ready = Promise.all([
      db.ready,
      waitForHttp(`http://127.0.0.1:${storagesvcPort}/readyz`, { timeoutMs: READY_TIMEOUT_MS, child: storagesvc }),
    ]).then(() => undefined);
    // Callers await `ready`; this handler only keeps an early failure from being reported unhandled.
    ready.catch(() => {});

    async function startBooksvc(booksvc: StartBooksvcOptions): Promise<RunningBooksvc> {
      const port = booksvc.port || (await freePort("0.0.0.0"));
      const child = Child.start({
        name: booksvc.name ?? "booksvc",
        command: [process.execPath, join(options.root, "cmd/booksvc/main.ts")],
        cwd: options.root,
        env: childEnv(options.env, {
          HTTP_PORT: String(port),
          STORAGESVC_URL: `${storagesvcUrl}/books`,
          ...booksvc.env,
        }),
        onLine: onLine(booksvc.name ?? "booksvc"),
      });
      const running: RunningBooksvc = {
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          booksvcs.delete(running);
          return child.stop();
        },
      };
      booksvcs.add(running);
      try {
        await waitForHttp(`${running.url}/healthz`, { timeoutMs: 15_000, child });
      } catch (error) {
        await running.stop();
        throw error;
      }
      return running;
    }

    return { database, dbProxy, storagesvcProxy, storagesvc, storagesvcUrl, ready, startBooksvc, stop };
  } catch (error) {
    await stop();
    throw new Error("cannot start the bookstore", { cause: error });
  }
}

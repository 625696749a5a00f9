import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Database, startDatabase } from "../devstack/database.ts";
import { binaryPath } from "../kit/binaries.ts";
import { definedEnv, type LineHandler } from "../kit/child.ts";
import { freePort } from "../kit/free-port.ts";
import { Haproxy } from "./haproxy.ts";
import { haproxyConfig, type Tier } from "./haproxy-config.ts";
import { type DrillRedis, startDrillRedis } from "./redis.ts";
import { Replica } from "./replica.ts";

/**
 * The bookstore as several replicas per tier:
 *
 *   clients ─▶ HAProxy books ─▶ booksvc-1..3 (+ a spare slot) ─▶ HAProxy storage ─▶ storagesvc-1..2
 *                                   └─▶ Redis (shared cache)                          └─▶ database proxy ─▶ PostgreSQL
 */
export interface ClusterOptions {
  root: string;
  /** Base environment of the replicas (usually `process.env`); DATABASE_URL / REDIS_URL choose external ones. */
  env: Record<string, string | undefined>;
  /** Data directory of the embedded database. */
  dataDir: string;
  /** Where haproxy.cfg, its admin socket and every replica's log go. */
  workDir: string;
  haproxyBinary: string;
  booksvcReplicas: number;
  /** booksvc server slots declared in HAProxy with no replica yet, for replicas started later. */
  spareBooksvcSlots: number;
  storagesvcReplicas: number;
  /** Output lines of the database and HAProxy. */
  onLine?: (process: string, line: string) => void;
}

export interface Cluster {
  readonly database: Database;
  readonly redis: DrillRedis;
  readonly haproxy: Haproxy;
  /** Every booksvc slot; the spare ones are not running until started. */
  readonly booksvc: readonly Replica[];
  readonly storagesvc: readonly Replica[];
  /** HAProxy's booksvc tier: what clients call. */
  readonly frontUrl: string;
  /** SHUTDOWN_DELAY_MS every replica runs with. */
  readonly shutdownDelayMs: number;
  /** Stops everything: booksvc, storagesvc, HAProxy, Redis, the database. */
  stop(): Promise<void>;
}

/** HAProxy section names of the tiers. */
export const BOOKS_TIER = "books";
export const STORAGE_TIER = "storage";

const DEFAULT_POOL_MAX = 10;
/** Long enough for HAProxy (a check every CHECK_INTERVAL_MS) to take a stopping replica out. */
export const DEFAULT_SHUTDOWN_DELAY_MS = 1_000;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  const onLine = (name: string): LineHandler => (line) => options.onLine?.(name, line);
  const base = definedEnv(options.env);
  const poolMax = Number(base.DB_POOL_MAX ?? DEFAULT_POOL_MAX) || DEFAULT_POOL_MAX;
  const common = {
    LOG_LEVEL: base.LOG_LEVEL ?? "warn",
    SHUTDOWN_DELAY_MS: base.SHUTDOWN_DELAY_MS ?? String(DEFAULT_SHUTDOWN_DELAY_MS),
  };

  try {
    const database = await startDatabase({
      env: options.env,
      dataDir: options.dataDir,
      // Every replica's pool, plus one more pool: a replacement connecting while a killed one's close is seen.
      maxConnections: (options.storagesvcReplicas + 1) * poolMax + 2,
      onLine: onLine("pglite"),
    });
    cleanups.push(() => database.stop());
    const redis = await startDrillRedis(options.env);
    cleanups.push(() => redis.close());
    await database.ready;

    const storageTier: Tier = {
      name: STORAGE_TIER,
      port: await freePort(),
      // booksvc gives up on an attempt after UPSTREAM_TIMEOUT_MS; HAProxy waits a little longer.
      serverTimeoutMs: (Number(base.UPSTREAM_TIMEOUT_MS ?? 2_000) || 2_000) + 3_000,
      servers: [],
    };
    const booksTier: Tier = {
      name: BOOKS_TIER,
      port: await freePort(),
      // booksvc answers every request within REQUEST_TIMEOUT_MS.
      serverTimeoutMs: (Number(base.REQUEST_TIMEOUT_MS ?? 10_000) || 10_000) + 5_000,
      servers: [],
    };
    const logDir = join(options.workDir, "logs");
    await mkdir(logDir, { recursive: true });
    const storagesvc: Replica[] = [];
    for (let i = 1; i <= options.storagesvcReplicas; i++) {
      const replica = new Replica({
        name: `storagesvc-${i}`,
        port: await freePort("0.0.0.0"),
        command: [binaryPath("storagesvc", options.root)],
        env: { ...base, ...common, DATABASE_URL: database.url, DB_POOL_MAX: String(poolMax) },
        logDir,
      });
      storagesvc.push(replica);
      storageTier.servers.push({ name: replica.name, port: replica.port });
    }
    const { REDIS_ADDR: _ignored, ...booksvcBase } = base;
    // One key for every replica, as in production, but this run's own: a given Redis may hold someone else's.
    const cacheKey = base.CACHE_KEY ?? `drill-cluster:${process.pid}-${Date.now().toString(36)}:books`;
    const booksvc: Replica[] = [];
    for (let i = 1; i <= options.booksvcReplicas + options.spareBooksvcSlots; i++) {
      const replica = new Replica({
        name: `booksvc-${i}`,
        port: await freePort("0.0.0.0"),
        command: [binaryPath("booksvc", options.root)],
        env: {
          ...booksvcBase,
          ...common,
          STORAGESVC_URL: `http://127.0.0.1:${storageTier.port}/books`,
          REDIS_URL: redis.url,
          CACHE_KEY: cacheKey,
        },
        logDir,
      });
      booksvc.push(replica);
      booksTier.servers.push({ name: replica.name, port: replica.port });
    }

    const configPath = join(options.workDir, "haproxy.cfg");
    const statsSocket = join(options.workDir, "haproxy.sock");
    await Bun.write(configPath, haproxyConfig({ statsSocket, tiers: [booksTier, storageTier] }));
    const haproxy = await Haproxy.start({ binary: options.haproxyBinary, configPath, statsSocket, onLine: onLine("haproxy") });
    cleanups.push(() => haproxy.stop());

    cleanups.push(() => Promise.all(storagesvc.map((r) => r.stop())));
    for (const replica of storagesvc) replica.start();
    await Promise.all(storagesvc.map((r) => r.ready(60_000)));
    cleanups.push(() => Promise.all(booksvc.map((r) => r.stop())));
    const active = booksvc.slice(0, options.booksvcReplicas);
    for (const replica of active) replica.start();
    await Promise.all(active.map((r) => r.ready()));
    await Promise.all([
      ...storagesvc.map((r) => haproxy.waitForServer(STORAGE_TIER, r.name, "UP")),
      ...active.map((r) => haproxy.waitForServer(BOOKS_TIER, r.name, "UP")),
      ...booksvc.slice(options.booksvcReplicas).map((r) => haproxy.waitForServer(BOOKS_TIER, r.name, "DOWN")),
    ]);

    const shutdownDelayMs = Number(common.SHUTDOWN_DELAY_MS);
    return { database, redis, haproxy, booksvc, storagesvc, frontUrl: `http://127.0.0.1:${booksTier.port}`, shutdownDelayMs, stop };
  } catch (error) {
    await stop();
    throw new Error("cannot start the cluster", { cause: error });
  }
}

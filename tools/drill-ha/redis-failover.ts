// The drill:ha Redis failover scenario, written once for any Redis topology: booksvc serving from
// its cache while storagesvc is down and a Redis master is killed under it.
import postgres from "postgres";
import { decodeEntry } from "../../internal/recache/index.ts";
import { Replica } from "../drill-cluster/replica.ts";
import { type RequestRecord, startLoadWorker } from "../drill/load-worker.ts";
import { freePort } from "../kit/free-port.ts";
import { createFreshDatabase } from "../kit/postgres.ts";
import { seedBooks } from "../kit/seed-books.ts";
import { REPO_ROOT } from "../kit/service-process.ts";
import { haRow } from "./rows.ts";
import { waitUntil } from "../kit/wait.ts";
import type { HaCheck, HaRow, HaScenarioContext, HaScenarioResult } from "./scenario.ts";

/** A running Redis topology, as the scenario needs it. */
export interface RedisUnderTest {
  /** What booksvc is given to reach it (REDIS_SENTINELS…, REDIS_CLUSTER_NODES…). */
  env: Record<string, string>;
  /** Kills (SIGKILL) the master that holds booksvc's keys; returns its address. */
  killMaster(): Promise<string>;
  /** Waits until a replica took over and answers writes; returns the new master's address. */
  waitForFailover(killed: string): Promise<string>;
  /** The string stored under `key`, read from whichever master holds it now. */
  read(key: string): Promise<string | null>;
  close(): Promise<void>;
}

export interface RedisFailoverOptions {
  name: string;
  title: string;
  start(): Promise<RedisUnderTest>;
}

/** Pages of `LIMIT` books the clients ask for: `/?limit=10&after=0`, `…after=10`, … */
const PAGES = 10;
const LIMIT = 10;
const pagePath = (i: number) => `/?limit=${LIMIT}&after=${i * LIMIT}`;
/** Its key in Redis with the default CACHE_KEY (see LastGood.keyOf). */
const pageKey = (i: number) => `{booksvc:books}?limit=${LIMIT}&after=${i * LIMIT}`;
const MEMORY = "booksvc-1";
const REDIS_ONLY = "booksvc-2";

/** A table row from the requests that started in [from, to). */
function row(label: string, records: readonly RequestRecord[], from: number, to: number, timeToFreshMs?: number): HaRow {
  const picked = records.filter((r) => r.startedAt >= from && r.startedAt < to);
  return { ...haRow(label, picked), ...(timeToFreshMs === undefined ? {} : { timeToFreshMs }) };
}

const pct = (share: number) => `${(share * 100).toFixed(2)} %`;

/**
 * storagesvc (a fresh database on the machine's PostgreSQL, 100 books besides the two demo ones)
 * and two booksvc replicas on `topology`: booksvc-1 reads every page while storagesvc is up (so
 * it holds them in memory and writes them to Redis), then storagesvc is killed and booksvc-2 starts
 * (it never reaches storagesvc: every page it serves comes from Redis first). Clients ask both
 * for every page all along; the Redis master is killed, the failover awaited, storagesvc started
 * again, and the scenario waits for a page's entry in Redis to be rewritten on the new master.
 */
export async function runRedisFailover(options: RedisFailoverOptions, ctx: HaScenarioContext): Promise<HaScenarioResult> {
  const began = Date.now();
  const events: HaScenarioResult["events"] = [];
  const note = (text: string) => {
    events.push({ atMs: Date.now() - began, text });
    ctx.event(text);
  };
  const settleMs = ctx.quick ? 1_500 : 4_000;
  const cleanups: Array<() => Promise<unknown>> = [];
  const records: RequestRecord[] = [];

  try {
    const db = await createFreshDatabase("drill_ha_redis");
    cleanups.push(() => db.drop());
    const redis = await options.start();
    cleanups.push(() => redis.close());
    note("redis topology up");

    const bun = [process.execPath];
    const storagesvc = new Replica({
      name: `${options.name}-storagesvc`,
      port: await freePort(),
      command: [...bun, `${REPO_ROOT}/cmd/storagesvc/main.ts`],
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: db.url, DB_POOL_MAX: "4", LOG_LEVEL: "warn" },
      logDir: ctx.logDir,
    });
    cleanups.push(() => storagesvc.kill());
    storagesvc.start();
    await storagesvc.ready();
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await seedBooks(sql, PAGES * LIMIT);
    } finally {
      await sql.end();
    }

    const booksvcEnv = {
      PATH: process.env.PATH ?? "",
      STORAGESVC_URL: `${storagesvc.url}/books`,
      RESILIENCE_STRATEGY: "combined",
      LOG_LEVEL: "warn",
      ...redis.env,
    };
    const booksvc = (name: string, port: number) =>
      new Replica({ name: `${options.name}-${name}`, port, command: [...bun, `${REPO_ROOT}/cmd/booksvc/main.ts`], env: booksvcEnv, logDir: ctx.logDir });
    const first = booksvc(MEMORY, await freePort());
    cleanups.push(() => first.kill());
    first.start();
    await first.ready();
    // Until every page is in Redis: a write before booksvc's Redis client connected is lost (it
    // never waits for Redis), and the next fresh answer of that page writes it.
    await waitUntil(
      "booksvc-1 did not store every page in Redis",
      async () => {
        for (let i = 0; i < PAGES; i++) {
          const response = await fetch(`${first.url}${pagePath(i)}`);
          await response.arrayBuffer();
          if (response.status !== 200) return `${pagePath(i)} answered ${response.status}`;
        }
        const stored = await Promise.all(Array.from({ length: PAGES }, (_, i) => redis.read(pageKey(i))));
        return stored.every((s) => s !== null) || `${stored.filter((s) => s !== null).length} of ${PAGES} in Redis`;
      },
      { timeoutMs: 15_000, intervalMs: 1_100, signal: ctx.signal },
    );
    note(`booksvc-1 read ${PAGES} pages; all in Redis`);

    await storagesvc.kill();
    const storagesvcDownAt = Date.now();
    note("storagesvc killed");
    const second = booksvc(REDIS_ONLY, await freePort());
    cleanups.push(() => second.kill());
    second.start();
    await second.ready();
    note("booksvc-2 started (never reached storagesvc)");

    const targets = [first, second].flatMap((replica, r) =>
      Array.from({ length: PAGES }, (_, i) => ({ name: `${r === 0 ? MEMORY : REDIS_ONLY}:${i}`, url: `${replica.url}${pagePath(i)}` })),
    );
    const load = startLoadWorker(`${options.name}-load`, { targets, load: { rate: 25 }, timeoutMs: 5_000 }, (r) => records.push(r));
    cleanups.push(() => load.stop(5_000));
    const loadFrom = Date.now();
    await Bun.sleep(settleMs);

    const killed = await redis.killMaster();
    const killedAt = Date.now();
    note(`redis master ${killed} killed`);
    const promoted = await redis.waitForFailover(killed);
    const failedOverAt = Date.now();
    note(`redis failover done: ${promoted} is master (${failedOverAt - killedAt} ms)`);
    await Bun.sleep(settleMs);

    storagesvc.start();
    await storagesvc.ready();
    const storagesvcBackAt = Date.now();
    note("storagesvc back");
    let rewrittenAt: number | undefined;
    try {
      await waitUntil(
        "no page was written to Redis again after storagesvc came back",
        async () => {
          const raw = await redis.read(pageKey(0));
          const storedAt = raw === null ? undefined : decodeEntry(raw)?.storedAt;
          if (storedAt !== undefined && storedAt >= storagesvcBackAt) rewrittenAt = Date.now();
          return rewrittenAt !== undefined || "not yet";
        },
        { timeoutMs: 20_000, intervalMs: 50, signal: ctx.signal },
      );
      note(`cache writes resumed: ${pageKey(0)} rewritten on the new master`);
    } catch (error) {
      note(String(error instanceof Error ? error.message : error));
    }
    await Bun.sleep(settleMs);
    await load.stop(5_000);
    const loadTo = Date.now();

    const of = (replica: string) => records.filter((r) => r.target.startsWith(`${replica}:`));
    const freshAfter = of(MEMORY).find((r) => r.fresh && r.startedAt >= storagesvcBackAt);
    const rows: HaRow[] = [
      row("storagesvc down, pages in memory (booksvc-1)", of(MEMORY), Math.max(loadFrom, storagesvcDownAt), storagesvcBackAt),
      row("storagesvc down, pages only in Redis (booksvc-2)", of(REDIS_ONLY), loadFrom, storagesvcBackAt),
      row("  of which during the failover (booksvc-1)", of(MEMORY), killedAt, failedOverAt),
      row("  of which during the failover (booksvc-2)", of(REDIS_ONLY), killedAt, failedOverAt),
      row(
        "storagesvc back (booksvc-1)",
        of(MEMORY),
        storagesvcBackAt,
        loadTo,
        freshAfter === undefined ? undefined : Math.round(freshAfter.startedAt + freshAfter.latencyMs - storagesvcBackAt),
      ),
    ];
    const [memory, redisOnly] = rows as [HaRow, HaRow];
    const checks: HaCheck[] = [
      { name: "100 % books for pages in memory", holds: memory.requests > 0 && memory.booksShare === 1, measured: `${pct(memory.booksShare)} of ${memory.requests}` },
      { name: "≥ 99 % books for pages only in Redis", holds: redisOnly.requests > 0 && redisOnly.booksShare >= 0.99, measured: `${pct(redisOnly.booksShare)} of ${redisOnly.requests}` },
      {
        name: "cache writes resume after the failover",
        holds: rewrittenAt !== undefined,
        measured: rewrittenAt === undefined ? "no rewrite within 20 s" : `a page rewritten ${rewrittenAt - storagesvcBackAt} ms after storagesvc came back`,
      },
      { name: "redis failover", holds: true, measured: `${killed} killed, ${promoted} master ${failedOverAt - killedAt} ms later` },
    ];
    return { name: options.name, title: options.title, rows, checks, events, records };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres, { type ReservedSql, type Sql } from "postgres";
import { PgCluster } from "../tools/kit/pg-cluster.ts";
import { createFreshDatabase, SHARED_POSTGRES_URL } from "../tools/kit/postgres.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// Readiness that tells the truth, and recovery without a restart once the database-level cause is
// lifted: a lock on the table, a read-only setting, exhausted connection slots. The read-only
// setting and the lock are on a database of the test's own on the shared server; the connection
// slots on a throwaway cluster.

setDefaultTimeout(60_000);

/** The contract: ready again within 2 s of the cause being lifted (2.5 s: a probe's own time on a busy machine). */
const RECOVERY_MS = 2_500;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const pool = (url: string, max = 2): Sql => {
  const sql = postgres(url, { max, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 1 }));
  return sql;
};

async function start(url: string, logLevel = "info"): Promise<ServiceProcess> {
  const service = await startStoragesvcProcess(url, (stop) => cleanups.push(stop), { DB_POOL_MAX: "4", LOG_LEVEL: logLevel });
  await service.waitFor("/healthz", 200);
  return service;
}

async function statusOf(service: ServiceProcess, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(service.url + path, { signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  return { status: response.status, ms: performance.now() - started };
}

/** Milliseconds until `path` answers `status`; the caller compares it with its deadline. */
function msUntil(service: ServiceProcess, path: string, status: number, timeoutMs = 10_000): Promise<number> {
  return waitUntil(
    `${path} did not answer ${status}`,
    async () => {
      const seen = (await statusOf(service, path)).status;
      return seen === status || `status ${seen}`;
    },
    { timeoutMs, child: service.child, intervalMs: 20 },
  );
}

/** A database of the test's own, with storagesvc's table, and an admin pool for ALTER DATABASE. */
async function ownDatabase() {
  const database = await createFreshDatabase("bookstore_recovery");
  cleanups.push(() => database.drop());
  const admin = pool(SHARED_POSTGRES_URL, 1);
  const alter = (setting: string) => admin.unsafe(`alter database "${database.name}" ${setting}`);
  return { database, admin, alter };
}

describe("storagesvc readiness and recovery", () => {
  test("the table locked by another session: readiness 503 within its time limit, /books 503; ready again once the lock is released", async () => {
    const { database } = await ownDatabase();
    const service = await start(database.url);
    await service.waitFor("/readyz", 200);

    const locker = pool(database.url, 1);
    const session: ReservedSql = await locker.reserve();
    cleanups.push(async () => session.release());
    await session`begin`;
    await session`lock table books in access exclusive mode`;

    const ready = await statusOf(service, "/readyz");
    expect(ready.status).toBe(503);
    // The readiness time limit is 900 ms: below a Kubernetes probe's default timeout of 1 s.
    expect(ready.ms).toBeLessThan(1_500);
    expect((await statusOf(service, "/books")).status).toBe(503);

    await session`rollback`;
    expect(await msUntil(service, "/readyz", 200)).toBeLessThan(RECOVERY_MS);
    expect((await statusOf(service, "/books")).status).toBe(200);
  });

  test("started while the database is read-only without the table: not ready; ready without a restart once the setting is lifted", async () => {
    const { database, alter } = await ownDatabase();
    await alter("set default_transaction_read_only = on");
    const service = await start(database.url, "debug"); // debug: each retry is logged
    await service.waitForLog((line) => line.msg === "database not ready; retrying");
    expect((await statusOf(service, "/readyz")).status).toBe(503);
    // Retried for a while with the setting on: every pooled connection would now carry it.
    await service.waitForLog((line) => line.msg === "database still not ready");

    await alter("reset default_transaction_read_only");
    expect(await msUntil(service, "/readyz", 200)).toBeLessThan(RECOVERY_MS);
    expect((await statusOf(service, "/books")).status).toBe(200);
  });

  test("a read-only setting set and lifted while running never stops the books (storagesvc only reads)", async () => {
    const { database, alter } = await ownDatabase();
    const service = await start(database.url);
    await service.waitFor("/readyz", 200);
    await alter("set default_transaction_read_only = on");
    // New connections now start read-only; every answer stays 200.
    for (let i = 0; i < 20; i++) expect((await statusOf(service, i % 2 ? "/books" : "/readyz")).status).toBe(200);
    await alter("reset default_transaction_read_only");
    expect((await statusOf(service, "/readyz")).status).toBe(200);
  });
});

describe("storagesvc when the database's connection slots are all taken", () => {
  test("503 while another client holds every slot; ready without a restart once it lets go", async () => {
    const cluster = await PgCluster.create();
    cleanups.push(() => cluster.destroy());
    await cluster.start();
    const setup = postgres(cluster.url(), { max: 1, onnotice: () => {} });
    await setup`alter system set max_connections = 8`;
    await setup.end();
    await cluster.restart();

    // Another client takes every slot (a superuser may take the reserved ones too).
    const hog = pool(cluster.url(), 20);
    const held: ReservedSql[] = [];
    for (;;) {
      const connection = await hog.reserve().catch((error: unknown) => error as Error);
      if (connection instanceof Error) {
        expect(connection).toMatchObject({ code: "53300" }); // too_many_connections
        break;
      }
      held.push(connection);
    }

    const service = await start(cluster.url());
    await service.waitForLog((line) => line.msg === "database not ready; retrying");
    expect((await statusOf(service, "/readyz")).status).toBe(503);
    expect((await statusOf(service, "/books")).status).toBe(503);

    for (const connection of held) connection.release();
    await hog.end({ timeout: 1 });
    expect(await msUntil(service, "/readyz", 200)).toBeLessThan(RECOVERY_MS);
    expect((await statusOf(service, "/books")).status).toBe(200);
  });
});

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { PgCluster } from "../tools/kit/pg-cluster.ts";
import { freePort } from "../tools/kit/free-port.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// storagesvc while its database is away: it starts anyway, answers 503 JSON, stays up, and serves
// again by itself once the database returns. The database is a throwaway cluster the tests stop and
// start; the machine's shared PostgreSQL is never touched.

setDefaultTimeout(60_000);

const PASSWORD = "outage-pw-5519";
/** The contract: serving again within 2 s of the database's return. */
const RECOVERY_DEADLINE_MS = 2_000;
const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startService(databasePort: number, logLevel = "info"): Promise<ServiceProcess> {
  const databaseUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${databasePort}/postgres`;
  const service = await startStoragesvcProcess(databaseUrl, (stop) => cleanups.push(stop), { DB_POOL_MAX: "4", LOG_LEVEL: logLevel });
  await service.waitFor("/healthz", 200);
  return service;
}

async function createCluster(port?: number): Promise<PgCluster> {
  const cluster = await PgCluster.create(port === undefined ? {} : { port });
  cleanups.push(() => cluster.destroy());
  return cluster;
}

async function get(service: ServiceProcess, path: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(service.url + path, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.json() };
}

/**
 * Polls `GET /books` until it answers 200; returns how long that took. A wait for an event with no
 * signal of its own (the service's reconnection), given long enough that the caller's
 * RECOVERY_DEADLINE_MS check, not the wait, reports a slow recovery with its time.
 */
function msUntilBooksServed(service: ServiceProcess, limitMs: number): Promise<number> {
  return waitUntil(
    "/books did not answer 200",
    async () => {
      const response = await fetch(`${service.url}/books`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return response.status === 200 || `status ${response.status}`;
    },
    { timeoutMs: limitMs, child: service.child, intervalMs: 20 },
  );
}

async function expectUnavailable(service: ServiceProcess): Promise<void> {
  const ready = await get(service, "/readyz");
  expect(ready.status).toBe(503);
  expect(ready.type).toStartWith("application/json");
  const books = await get(service, "/books");
  expect(books).toEqual({ status: 503, type: expect.stringMatching(/^application\/json/), body: { error: "database unavailable" } });
  expect((await get(service, "/healthz")).status).toBe(200);
  expect(service.exitCode).toBeNull();
}

describe("storagesvc during a database outage", () => {
  test("starts with the database unreachable, answers 503 JSON and stays up, then serves within 2 s of the database coming up", async () => {
    const databasePort = await freePort();
    const cluster = await createCluster(databasePort); // initdb now, started later
    const service = await startService(databasePort, "debug"); // debug: the schema keeper logs each pause

    await expectUnavailable(service);
    // The slowest case for recovery: the schema keeper's backoff has reached its cap, seen as a
    // pause no longer than the one before (lines are checked in order, each once).
    let previousPause: unknown;
    await service.waitForLog((line) => {
      if (line.msg !== "database still not ready") return false;
      const capped = line.retry_in_ms === previousPause;
      previousPause = line.retry_in_ms;
      return capped;
    });
    await expectUnavailable(service);

    await cluster.start();
    const recoveryMs = await msUntilBooksServed(service, 10_000);
    console.log(`storagesvc served books ${Math.round(recoveryMs)} ms after the database came up`);
    expect(recoveryMs).toBeLessThan(RECOVERY_DEADLINE_MS);
    expect(await get(service, "/books")).toMatchObject({ status: 200, body: ARTICLE_BOOKS });
    expect((await get(service, "/readyz")).status).toBe(200);

    const warning = await service.waitForLog((line) => line.msg === "database not ready; retrying");
    expect(warning.level).toBe("warn");
    expect(service.stdout).not.toContain(PASSWORD);
    expect(await service.stop()).toBe(0);
  });

  test("answers 503 while the database is down mid-run and recovers by itself when it returns, without reseeding", async () => {
    const cluster = await createCluster();
    await cluster.start();
    const service = await startService(cluster.port);
    await service.waitFor("/readyz", 200);
    expect(await get(service, "/books")).toMatchObject({ status: 200, body: ARTICLE_BOOKS });

    await cluster.stop("fast");
    // Twice: the first requests may meet connections the shutdown closed, the second need new ones.
    await expectUnavailable(service);
    await expectUnavailable(service);

    await cluster.start();
    const recoveryMs = await msUntilBooksServed(service, 10_000);
    console.log(`storagesvc served books ${Math.round(recoveryMs)} ms after the database restarted`);
    expect(recoveryMs).toBeLessThan(RECOVERY_DEADLINE_MS);
    expect(await get(service, "/books")).toMatchObject({ status: 200, body: ARTICLE_BOOKS });
    await service.waitFor("/readyz", 200, 2_000);

    // A crash-like stop (no goodbye to clients) is survived the same way.
    await cluster.stop("immediate");
    await expectUnavailable(service);
    await cluster.start();
    expect(await msUntilBooksServed(service, 10_000)).toBeLessThan(RECOVERY_DEADLINE_MS);

    expect(service.stdout).not.toContain(PASSWORD);
    expect(await service.stop()).toBe(0);
  });

  test("a database that comes back empty is an outage: 503 and an error line, never a new table with the demo books", async () => {
    const first = await createCluster();
    await first.start();
    const service = await startService(first.port);
    await service.waitFor("/readyz", 200);
    await first.destroy();

    const replacement = await createCluster(first.port);
    await replacement.start();
    // Served again would mean the two demo books standing in for a catalogue that is gone.
    const missingLine = (line: Record<string, unknown>) => line.level === "error" && String(line.msg).startsWith("books table missing");
    await waitUntil(
      "storagesvc logged the missing table",
      async () => {
        await get(service, "/books");
        return service.logs.some(missingLine) || "not yet";
      },
      { timeoutMs: 10_000, child: service.child, intervalMs: 50 },
    );
    await expectUnavailable(service);
    const sql = postgres(`postgres://postgres@127.0.0.1:${replacement.port}/postgres`, { max: 1, onnotice: () => {} });
    try {
      expect((await sql`select to_regclass('books') is null as missing`)[0]?.missing).toBe(true);
    } finally {
      await sql.end();
    }
    expect(await service.stop()).toBe(0);
  });

  test("SIGTERM while the database is unreachable still exits 0 promptly", async () => {
    const service = await startService(await freePort());
    await expectUnavailable(service);
    expect(await service.stop("SIGTERM")).toBe(0);
    // storagesvc's own measure, from its "stopping" line (the signal handled) to its "stopped" line.
    const stopping = await service.waitForLog((line) => line.msg === "stopping");
    const stopped = await service.waitForLog((line) => line.msg === "stopped");
    expect(Date.parse(String(stopped.time)) - Date.parse(String(stopping.time))).toBeLessThan(5_000);
  });
});

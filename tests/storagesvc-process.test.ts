import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { expectCleanDrain } from "../tools/kit/drain-load.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// storagesvc as a real process against the machine's PostgreSQL, in a database of its own.

// Processes and database creation take a while on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(30_000);

const PASSWORD = "pw-must-not-leak-7731";
const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

let database: FreshDatabase;
/** The fresh database's URL with a password added: the shared server uses trust auth and ignores it. */
let urlWithPassword: string;
const stops: (() => Promise<unknown>)[] = [];

async function startService(databaseUrl = urlWithPassword, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await startStoragesvcProcess(databaseUrl, (stop) => stops.push(stop), { DB_POOL_MAX: "4", LOG_LEVEL: "info", ...env });
  await service.waitFor("/readyz", 200);
  return service;
}

/** SIGTERM, then wait until the last log line ("stopped") has been read from the pipe. */
async function stopGracefully(service: ServiceProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
  const code = await service.stop(signal);
  await service.waitForLog((line) => line.msg === "stopped", 2_000);
  return code;
}

beforeAll(async () => {
  database = await createFreshDatabase("storagesvc_e2e");
  const url = new URL(database.url);
  url.password = PASSWORD;
  urlWithPassword = url.toString();
});

/** Databases a single test created for itself; dropped even when the test fails or times out. */
const ownDatabases: FreshDatabase[] = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await Promise.all(ownDatabases.splice(0).map((own) => own.drop()));
});

afterAll(async () => {
  await database.drop();
});

describe("storagesvc process", () => {
  test("seeds the article's two books once; three restarts later the table still holds exactly two", async () => {
    const own = await createFreshDatabase("storagesvc_e2e_seed");
    ownDatabases.push(own);
    for (let run = 1; run <= 4; run++) {
      const service = await startService(own.url);
      const response = await fetch(`${service.url}/books`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(ARTICLE_BOOKS);
      const ready = await service.waitForLog((line) => line.msg === "books schema ready");
      expect(ready.table).toBe(run === 1 ? "created" : "present");
      expect(await stopGracefully(service)).toBe(0);
    }
    const sql = postgres(own.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ count: number }[]>`select count(*)::int as count from books`;
      expect(row?.count).toBe(2);
    } finally {
      await sql.end();
    }
  });

  test.each(["SIGTERM", "SIGINT"] as const)("%s stops it gracefully with exit code 0", async (signal) => {
    const service = await startService();
    expect(await stopGracefully(service, signal)).toBe(0);
    expect(service.stderr).toBe("");
  });

  test("SIGTERM under keep-alive load with SHUTDOWN_DELAY_MS: readiness 503 at once, books with Connection: close through the delay, no client error, exit 0", async () => {
    const service = await startService(urlWithPassword, { SHUTDOWN_DELAY_MS: "2000" });
    await expectCleanDrain(service, "/books", 2000);
  });

  test("echoes the request's X-Request-Id and generates one when absent", async () => {
    const service = await startService();
    const echoed = await fetch(`${service.url}/books`, { headers: { "X-Request-Id": "client-chosen-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-chosen-42");
    const generated = await fetch(`${service.url}/books`);
    expect(generated.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
    await Promise.all([echoed.body?.cancel(), generated.body?.cancel()]);
  });

  test("answers an unknown path with 404 JSON and a wrong method with 405 JSON", async () => {
    const service = await startService();
    const missing = await fetch(`${service.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toStartWith("application/json");
    expect(await missing.json()).toEqual({ error: expect.any(String) });
    const wrong = await fetch(`${service.url}/books`, { method: "POST", body: "{}" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("content-type")).toStartWith("application/json");
    expect(await wrong.json()).toEqual({ error: expect.any(String) });
  });

  test("health, readiness and metrics answer while the database is up", async () => {
    const service = await startService();
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get("content-type")).toStartWith("application/json");
    await fetch(`${service.url}/books`);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{method="GET",route="/books",status="200"} 1');
    expect(metrics).toContain("http_request_duration_seconds_bucket");
  });

  test("writes one JSON log line per request, with app storagesvc and the request id", async () => {
    const service = await startService();
    const ids = ["log-a", "log-b", "log-c"];
    for (const id of ids) await (await fetch(`${service.url}/books`, { headers: { "X-Request-Id": id } })).body?.cancel();
    await service.waitForLog((line) => line.request_id === "log-c");
    expect(await stopGracefully(service)).toBe(0);
    for (const line of service.logs) {
      expect(line).not.toHaveProperty("unparsed");
      expect(line).toMatchObject({ app: "storagesvc", level: expect.any(String), msg: expect.any(String), time: expect.any(String) });
    }
    for (const id of ids) {
      const lines = service.logs.filter((line) => line.request_id === id);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: "request", method: "GET", path: "/books", status: 200 });
    }
  });

  test("logs the database URL with its password masked, and the password nowhere", async () => {
    const service = await startService();
    const line = await service.waitForLog((l) => typeof l.database_url === "string");
    expect(line.database_url).toBe(urlWithPassword.replace(PASSWORD, "***"));
    expect(await stopGracefully(service)).toBe(0);
    expect(service.stdout).not.toContain(PASSWORD);
    expect(service.stderr).not.toContain(PASSWORD);
  });
});

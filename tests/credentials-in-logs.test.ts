import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { PgCluster } from "../tools/kit/pg-cluster.ts";
import { freePort } from "../tools/kit/free-port.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";
import { type LogLine, ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// Initdb, a PostgreSQL server, redis-server and service processes: slow on a busy 2-core machine.
setDefaultTimeout(90_000);

// Credentials never appear in logs: real servers that refuse a wrong password, every place booksvc
// and storagesvc log a URL or a client library's error, and the problem lines of bad configuration.
// ioredis attaches the failed command to its error, so a wrong Redis password was logged in clear
// inside `err.command.args` of HELLO/AUTH, though the URL beside it was masked.

const SECRET = "S3cret-must-not-leak";
const REAL_PASSWORD = "the-real-password";

describe("booksvc with a wrong Redis password", () => {
  let redis: ThrowawayRedis;
  let up: FakeUpstream;

  beforeAll(async () => {
    redis = await startThrowawayRedis({ args: ["--requirepass", REAL_PASSWORD] });
    up = await startFakeUpstream();
  });

  afterAll(async () => {
    await up?.close();
    await redis?.close();
  });

  test.each([
    ["in the user info", (port: number) => `redis://:${SECRET}@127.0.0.1:${port}`],
    ["with a user name", (port: number) => `redis://default:${SECRET}@127.0.0.1:${port}/0`],
    ["as a query parameter", (port: number) => `redis://127.0.0.1:${port}/?password=${SECRET}`],
  ])("a password %s appears in no log line, while the lines still say what failed", async (_name, url) => {
    let h: BooksvcHarness | undefined;
    try {
      h = startBooksvcInProcess(
        {
          STORAGESVC_URL: `http://reader:${SECRET}@127.0.0.1:${up.port}/books?token=${SECRET}`,
          REDIS_URL: url(redis.port),
          RESILIENCE_STRATEGY: "breaker",
          CACHE_KEY: `creds:${crypto.randomUUID()}`,
        },
        { cache: "from-config" },
      );
      const harness = h;
      const refused = await harness.waitForLog((l) => l.msg === "redis connection failed; serving without the cache", 15_000);
      up.ok();
      expect((await harness.get()).response.status).toBe(200); // the write fails: logged with its error
      await harness.booksvc.lastGood.settled();
      up.status(500);
      await harness.get(); // opens the breaker and logs the upstream error
      await harness.get(); // the cache read fails

      const output = JSON.stringify(harness.logs());
      expect(output).not.toContain(SECRET);
      expect(JSON.stringify(refused.err)).toMatch(/WRONGPASS|NOAUTH/);
      expect(refused.redis).toBeString();
      expect(harness.logs().some((l) => l.msg === "cache unavailable; answering without it")).toBe(true);
      expect(harness.logs().some((l) => l.msg === "booksvc configured" && String(l.upstream).includes("reader:***@"))).toBe(true);
    } finally {
      await h?.close();
    }
  });
});

describe("storagesvc with a wrong database password", () => {
  let cluster: PgCluster;
  const stops: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    cluster = await PgCluster.create({ password: REAL_PASSWORD });
    await cluster.start();
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await cluster?.destroy();
  });

  function start(databaseUrl: string): Promise<ServiceProcess> {
    return startStoragesvcProcess(databaseUrl, (stop) => stops.push(stop), { DB_POOL_MAX: "2", LOG_LEVEL: "debug" });
  }

  test("the cluster refuses a wrong password and accepts the right one (the setup the tests below rely on)", async () => {
    const service = await start(`postgres://postgres:${REAL_PASSWORD}@127.0.0.1:${cluster.port}/postgres`);
    await service.waitFor("/readyz", 200, 20_000);
    expect(await service.stop("SIGTERM")).toBe(0);
  });

  test.each([
    ["in the user info", (port: number) => `postgres://postgres:${SECRET}@127.0.0.1:${port}/postgres`],
    ["as a query parameter", (port: number) => `postgres://127.0.0.1:${port}/postgres?user=postgres&password=${SECRET}`],
    ["as sslpassword", (port: number) => `postgres://postgres:${SECRET}@127.0.0.1:${port}/postgres?sslpassword=${SECRET}`],
  ])("a password %s appears in no log line, while the lines still say what failed", async (_name, url) => {
    const service = await start(url(cluster.port));
    const refused: LogLine = await service.waitForLog((l) => l.msg === "database not ready; retrying", 20_000);
    const books = await fetch(`${service.url}/books`);
    expect(books.status).toBe(503);
    await service.waitForLog((l) => l.msg === "books unavailable");
    expect(await service.stop("SIGTERM")).toBe(0);
    await service.waitForLog((l) => l.msg === "stopped", 5_000);

    expect(service.stdout + service.stderr).not.toContain(SECRET);
    expect(JSON.stringify(refused.err)).toMatch(/password authentication failed/);
    const using = service.logs.find((l) => l.msg === "using database");
    expect(String(using?.database_url)).toContain("***");
  });
});

describe("bad configuration", () => {
  async function exitOf(entry: string, env: Record<string, string>) {
    const port = await freePort();
    const service = ServiceProcess.start({ entry, port, env: { HTTP_PORT: String(port), ...env } });
    const code = await service.exitWithin(10_000);
    if (code === "still running") await service.stop("SIGKILL");
    return { code, output: service.stdout + service.stderr, stderr: service.stderr };
  }

  test.each([
    ["storagesvc", "DATABASE_URL", `mysql://127.0.0.1/db?user=app&password=${SECRET}`],
    ["storagesvc", "DATABASE_URL", `postgres://app:${SECRET}@127.0.0.1:notaport/db`],
    ["booksvc", "REDIS_URL", `http://:${SECRET}@127.0.0.1:6379`],
    ["booksvc", "REDIS_ADDR", `redis://:${SECRET}@127.0.0.1:6379`],
    ["booksvc", "STORAGESVC_URL", `ftp://u:${SECRET}@127.0.0.1/books?token=${SECRET}`],
  ])("%s: a rejected %s is named on stderr without its credentials, exit 2", async (service, name, value) => {
    const { code, output, stderr } = await exitOf(`cmd/${service}/main.ts`, { [name]: value });
    expect(code).toBe(2);
    expect(stderr).toStartWith(`${service}: ${name}: got "`);
    expect(output).not.toContain(SECRET);
  });
});

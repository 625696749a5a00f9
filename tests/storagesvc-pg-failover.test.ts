import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { freePort } from "../tools/kit/free-port.ts";
import { StreamingPair } from "../tools/kit/pg-standby.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// PostgreSQL topologies from storagesvc's side, with real clusters: a primary and its streaming
// standby (pg_basebackup -R) named together in one multi-host DATABASE_URL. The contract: while no
// database or no primary can be reached, /books answers 503 well before booksvc's 2 s upstream
// timeout, never hanging; after the standby's promotion, 200 within 2 s.
setDefaultTimeout(90_000);

/** "Well before" booksvc's default UPSTREAM_TIMEOUT_MS (2 s): storagesvc gives up after 1 s. */
const FAST_503_MS = 1_500;
const PROMOTION_TO_200_MS = 2_000;

let pair: StreamingPair;
beforeAll(async () => {
  pair = await StreamingPair.start();
});
afterAll(async () => {
  await pair.destroy();
});
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function timedGet(url: string): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json(), ms: performance.now() - started };
}

/** Which server a postgres.js pool on `url` lands on: the standby (in recovery) or the primary. */
async function landsOnStandby(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [row] = await sql<{ recovering: boolean }[]>`select pg_is_in_recovery() as recovering`;
    return row?.recovering === true;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

describe("target_session_attrs with postgres.js, standby listed first", () => {
  const standbyFirst = (attrs: string) =>
    `postgres://postgres@127.0.0.1:${pair.standby.port},127.0.0.1:${pair.primary.port}/postgres?target_session_attrs=${attrs}`;

  test("primary skips the hot standby", async () => {
    expect(await landsOnStandby(standbyFirst("primary"))).toBe(false);
  });

  test("read-write lands on the hot standby: postgres.js only checks default_transaction_read_only, off there", async () => {
    expect(await landsOnStandby(standbyFirst("read-write"))).toBe(true);
  });
});

describe("storagesvc on a two-host DATABASE_URL", () => {
  test("no host reachable: /books answers 503 fast, every time", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const service = await startStoragesvcProcess(`postgres://postgres@127.0.0.1:${a},127.0.0.1:${b}/postgres?target_session_attrs=primary`, (s) => cleanups.push(s), {
      LOG_LEVEL: "error",
    });
    await service.waitFor("/healthz");
    for (let i = 0; i < 3; i++) {
      const answer = await timedGet(`${service.url}/books`);
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(FAST_503_MS);
    }
  });

  test("primary killed: 503 fast while only the standby is left; 200 within 2 s of its promotion, with the books", async () => {
    const service = await startStoragesvcProcess(pair.url("postgres"), (s) => cleanups.push(s), { LOG_LEVEL: "error" });
    await service.waitFor("/readyz", 200, 20_000);
    const before = await timedGet(`${service.url}/books`);
    expect(before.status).toBe(200);
    await pair.waitUntilReplayed(); // the seeded table is on the standby too

    await pair.primary.stop("immediate");
    for (let i = 0; i < 3; i++) {
      const answer = await timedGet(`${service.url}/books`);
      expect({ status: answer.status, fast: answer.ms < FAST_503_MS }).toEqual({ status: 503, fast: true });
    }

    const promotedAt = performance.now();
    await pair.standby.promote();
    await waitUntil("storagesvc did not answer 200 after the promotion", async () => (await timedGet(`${service.url}/books`)).status === 200 || "not yet", {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(performance.now() - promotedAt).toBeLessThan(PROMOTION_TO_200_MS);
    expect((await timedGet(`${service.url}/books`)).body).toEqual(before.body);
  });
});

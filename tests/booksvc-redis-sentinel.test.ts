import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { sumCounter } from "../tools/kit/metrics.ts";
import { type SentinelTopology, startSentinelTopology } from "../tools/kit/redis-sentinel.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// Five redis-servers, a failover and in-process replicas: slow on a busy 2-core machine.
setDefaultTimeout(120_000);

// booksvc through Redis Sentinel (1 master, 1 replica, 3 sentinels), the master killed with
// SIGKILL. Before, only a single-server client existed: a sentinel address gave `unknown command
// 'eval'`, and a client pinned to the old master got READONLY on every write after a failover.

const PASSWORD = "sentinel-cache-secret";
/** The contract's cache budget plus scheduling slack on a busy machine. */
const BUDGET_WITH_SLACK_MS = 250 + 400;
const books = (label: string) => [{ id: 1, title: label, author: "A", desc: "" }];

let topology: SentinelTopology;
let up: FakeUpstream;
let h: BooksvcHarness;

beforeAll(async () => {
  topology = await startSentinelTopology({ password: PASSWORD, downAfterMs: 1000 });
  up = await startFakeUpstream();
  h = startBooksvcInProcess(
    {
      STORAGESVC_URL: up.url,
      RESILIENCE_STRATEGY: "combined",
      REDIS_SENTINELS: topology.sentinelList,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_PASSWORD: PASSWORD,
    },
    { cache: "from-config" },
  );
  await h.untilCacheAnswers(10_000);
});

afterAll(async () => {
  await h?.close();
  await up?.close();
  await topology?.close();
});

/** The first page's entry on the server at `addr`, read directly. */
const storedOn = (addr: string) => topology.admin(addr).get("booksvc:books");
const cacheErrors = async () => sumCounter(await h.booksvc.registry.metrics(), "booksvc_cache_errors_total");

describe("booksvc on Redis Sentinel", () => {
  test("writes the last good answer to the master the sentinels name, with REDIS_PASSWORD", async () => {
    up.ok(books("before the failover"));
    expect((await h.get()).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    expect(await storedOn(await topology.currentMaster())).toContain("before the failover");
    expect(await cacheErrors()).toBe(0);
  });

  test("a failover with the old master still running (it turns replica under open connections): writes follow, no READONLY for good", async () => {
    const oldMaster = await topology.currentMaster();
    await topology.admin(topology.sentinels[0]!.addr).call("SENTINEL", "FAILOVER", topology.name);
    const { addr: newMaster } = await topology.waitForNewMaster(oldMaster);
    let n = 0;
    await waitUntil(
      "a new answer did not reach the new master",
      async () => {
        up.ok(books(`after the switch ${++n}`));
        expect((await h.get()).response.status).toBe(200);
        await h.booksvc.lastGood.settled();
        return (await storedOn(newMaster))?.includes(`after the switch ${n}`) || "not there yet";
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    // The old master is still up and becomes a replica of the new one: a client left on it would get READONLY.
    await waitUntil(
      "the old master did not turn replica",
      async () => ((await topology.admin(oldMaster).call("ROLE")) as string[])[0] === "slave" || "still master",
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    up.ok(books(`after the switch ${++n}`));
    expect((await h.get()).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    expect(await storedOn(newMaster)).toContain(`after the switch ${n}`);
  });

  test("master killed: answers keep coming within the cache budget, and writes resume on the new master", async () => {
    const oldMaster = await topology.currentMaster();
    await topology.server(oldMaster).kill();
    const killedAt = performance.now();

    // During the failover, storagesvc down too: every answer comes from this replica's memory,
    // each within the cache budget (no offline queue: a read fails fast or at its timeout).
    up.status(503);
    const during: { status: number; ms: number }[] = [];
    const failover = topology.waitForNewMaster(oldMaster);
    let done = false;
    void failover.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const r = await h.get();
      during.push({ status: r.response.status, ms: r.ms });
      // A client's pace: an answer from memory settles in microtasks, and a loop of them would starve the timers and sockets.
      await Bun.sleep(10);
    }
    const { addr: newMaster } = await failover;
    const failoverMs = performance.now() - killedAt;
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(BUDGET_WITH_SLACK_MS);

    // storagesvc back with a new answer: it reaches the new master (no READONLY, no stale connection).
    up.ok(books("after the failover"));
    const resumedMs = await waitUntil(
      "the new answer did not reach the new master",
      async () => {
        const r = await h.get();
        expect(r.response.status).toBe(200);
        await h.booksvc.lastGood.settled();
        return (await storedOn(newMaster))?.includes("after the failover") || "not there yet";
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    console.info(`sentinel failover: new master ${newMaster} ${Math.round(failoverMs)} ms after the kill; writes resumed ${Math.round(resumedMs)} ms after that`);
    expect(await cacheErrors()).toBeGreaterThan(0); // the outage was counted
    expect(h.logs().some((l) => l.msg === "redis connection failed; serving without the cache")).toBe(true);
    expect(JSON.stringify(h.logs())).not.toContain(PASSWORD);
  });
});

describe("booksvc on Redis Sentinel with a wrong REDIS_PASSWORD", () => {
  test("the password appears in no log line, while the line says what failed", async () => {
    const wrong = "Wr0ng-sentinel-password";
    const other = startBooksvcInProcess(
      { STORAGESVC_URL: up.url, REDIS_SENTINELS: topology.sentinelList, REDIS_SENTINEL_NAME: topology.name, REDIS_PASSWORD: wrong },
      { cache: "from-config" },
    );
    try {
      const refused = await other.waitForLog((l) => l.msg === "redis connection failed; serving without the cache", 15_000);
      up.ok();
      expect((await other.get()).response.status).toBe(200); // the write fails: logged with its error
      await other.booksvc.lastGood.settled();
      expect(JSON.stringify(refused.err)).toMatch(/WRONGPASS|NOAUTH/);
      expect(refused.redis_sentinels).toBe(topology.sentinelList);
      expect(JSON.stringify(other.logs())).not.toContain(wrong);
    } finally {
      await other.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Cluster } from "ioredis";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { sumCounter } from "../tools/kit/metrics.ts";
import { type RedisClusterTopology, startRedisCluster } from "../tools/kit/redis-cluster.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// Six redis-servers joined by redis-cli, a failover and in-process replicas: slow on a busy 2-core machine.
setDefaultTimeout(120_000);

// booksvc on a real 6-node Redis Cluster with the DEFAULT CACHE_KEY. Before, only a single-node
// client existed: every page but the first failed with CROSSSLOT (a page's key and the page
// index hashed to different slots), or every write with MOVED, and /readyz stayed 200 while only a
// counter showed it.

const PASSWORD = "cluster-cache-secret";
const BUDGET_WITH_SLACK_MS = 250 + 400;
const PAGES = 60;
const catalogue = Array.from({ length: PAGES * 10 }, (_, i) => ({ id: i + 1, title: `Book ${i + 1}`, author: "A", desc: "" }));
/** The page after `after`, as storagesvc would answer it. */
const pageAfter = (after: number, label = "") => catalogue.slice(after, after + 10).map((b) => ({ ...b, title: `${b.title}${label}` }));

let cluster: RedisClusterTopology;
let admin: Cluster;
let up: FakeUpstream;
const harnesses: BooksvcHarness[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ password: PASSWORD, nodeTimeoutMs: 1000 });
  admin = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0]!.port }], { redisOptions: { password: PASSWORD } });
  admin.on("error", () => {});
  up = await startFakeUpstream();
});

afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  admin?.disconnect();
  await Promise.all([up?.close(), cluster?.close()]);
});

async function replica(env: Record<string, string> = {}): Promise<BooksvcHarness> {
  const h = startBooksvcInProcess(
    { STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: "combined", REDIS_CLUSTER_NODES: cluster.nodes[0]!.addr, REDIS_PASSWORD: PASSWORD, ...env },
    { cache: "from-config" },
  );
  harnesses.push(h);
  await h.untilCacheAnswers(10_000);
  return h;
}

const cacheErrors = async (h: BooksvcHarness) => sumCounter(await h.booksvc.registry.metrics(), "booksvc_cache_errors_total");
const redisErrorText = (h: BooksvcHarness) => JSON.stringify(h.logs()).match(/CROSSSLOT|MOVED|ASK |Too many Cluster redirections/g) ?? [];

/** Fetches every page through `h` with storagesvc answering each with `label` in its titles. */
async function walkPages(h: BooksvcHarness, label = ""): Promise<void> {
  for (let page = 0; page < PAGES; page++) {
    up.ok(pageAfter(page * 10, label));
    const r = await h.get(page === 0 ? "/?limit=10&after=0" : `/?limit=10&after=${page * 10}`);
    expect(r.response.status).toBe(200);
  }
  await h.booksvc.lastGood.settled();
}

describe("booksvc on Redis Cluster with the default CACHE_KEY", () => {
  test("every page and the page index share booksvc:books' hash slot: no CROSSSLOT, no MOVED, no cache error", async () => {
    const writer = await replica();
    await walkPages(writer);
    expect(await cacheErrors(writer)).toBe(0);
    expect(redisErrorText(writer)).toEqual([]);

    const slot = await cluster.keySlot("booksvc:books");
    expect(await cluster.keySlot("{booksvc:books}?pages")).toBe(slot);
    expect(await cluster.keySlot("{booksvc:books}?limit=10&after=590")).toBe(slot);
    expect(await admin.zcard("{booksvc:books}?pages")).toBe(PAGES);

    // A replica that never reached storagesvc answers every page from the cluster.
    up.status(503);
    const reader = await replica();
    for (let page = 0; page < PAGES; page++) {
      const r = await reader.get(`/?limit=10&after=${page * 10}`);
      expect(r.response.status).toBe(200);
      expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
      expect(JSON.parse(r.body)[0].id).toBe(page * 10 + 1);
    }
    expect(await cacheErrors(reader)).toBe(0);
  });

  test("the master of that slot killed: answers within the cache budget, errors counted, /readyz unchanged, writes resume", async () => {
    const h = await replica();
    await walkPages(h);
    const slot = await cluster.keySlot("booksvc:books");
    const master = await cluster.masterOf(slot);
    const errorsBefore = await cacheErrors(h);
    await master.kill();
    const killedAt = performance.now();

    up.status(503); // storagesvc down too: every answer comes from this replica's memory
    const during: { status: number; ms: number }[] = [];
    let done = false;
    const failover = cluster.waitForNewMaster(slot, master);
    void failover.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; !done; i++) {
      const r = await h.get(`/?limit=10&after=${(i % PAGES) * 10}`);
      during.push({ status: r.response.status, ms: r.ms });
      await Bun.sleep(10); // a client's pace, so the client's timers and sockets run
    }
    await failover;
    const failoverMs = performance.now() - killedAt;
    expect(during.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(BUDGET_WITH_SLACK_MS);
    expect(await cacheErrors(h)).toBeGreaterThan(errorsBefore); // visible in the metrics
    expect((await h.booksvc.fetch(new Request("http://booksvc/readyz"))).status).toBe(200); // readiness does not depend on Redis (contract)

    // storagesvc back with new answers: they reach the promoted master.
    const resumedMs = await waitUntil(
      "the new answers did not reach the promoted master",
      async () => {
        await walkPages(h, " (after the failover)");
        const stored = await admin.get("{booksvc:books}?limit=10&after=590");
        return stored?.includes("(after the failover)") || "not there yet";
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    console.info(`cluster failover: slot ${slot} served again ${Math.round(failoverMs)} ms after the kill; writes resumed ${Math.round(resumedMs)} ms after that`);
    expect(redisErrorText(h).filter((e) => e === "CROSSSLOT")).toEqual([]);
    expect(JSON.stringify(h.logs())).not.toContain(PASSWORD);
  });
});

describe("booksvc on Redis Cluster with a wrong REDIS_PASSWORD", () => {
  test("the password appears in no log line, while the line says what failed", async () => {
    const wrong = "Wr0ng-cluster-password";
    const h = startBooksvcInProcess(
      { STORAGESVC_URL: up.url, REDIS_CLUSTER_NODES: cluster.nodeList.split(",").slice(1, 3).join(","), REDIS_PASSWORD: wrong },
      { cache: "from-config" },
    );
    harnesses.push(h);
    const refused = await h.waitForLog((l) => l.msg === "redis connection failed; serving without the cache", 15_000);
    up.ok();
    expect((await h.get()).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    expect(JSON.stringify(refused.err)).toMatch(/WRONGPASS|NOAUTH|invalid|refresh slots/i);
    expect(JSON.stringify(h.logs())).not.toContain(wrong);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Redis } from "ioredis";
import { CacheError, createRedisClient, RedisCache } from "../internal/recache/index.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";
import { freePort } from "../tools/kit/free-port.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

// A Redis outage must make cache calls fail fast (the caller then serves without the cache), report the
// outage once, and recover by itself. The server here is a throwaway redis-server that the tests kill.

/** The contract's budget for one cache call: the client's command timeout. */
const COMMAND_TIMEOUT_MS = 250;
/**
 * Real time is what these tests measure, but on a busy shared machine: a bound this loose still
 * tells a call ended by the command timeout from one queued behind reconnections (seconds).
 */
const WELL_PAST_THE_TIMEOUT_MS = 4 * COMMAND_TIMEOUT_MS;

/** Whether `error` is a CacheError whose cause is not the command timeout: the call failed at once. */
function failedFast(error: unknown): boolean {
  return error instanceof CacheError && !/timed out/i.test(String(error.cause));
}

async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

/**
 * Resolves on `client`'s next `event`. Not `events.once`: that rejects on an `error` event, and
 * while Redis is down every reconnection attempt emits one.
 */
function next(client: Redis, event: "ready" | "error"): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}

/** Resolves when `client` is ready: at once if it is, else on its next `ready` event. */
async function untilReady(client: Redis): Promise<void> {
  if (client.status !== "ready") await next(client, "ready");
}

/** Whether the cache round-trips right now (any failure counts as no). */
async function works(cache: RedisCache, key: string): Promise<boolean> {
  try {
    const value = `v-${Math.random()}`;
    await cache.put(key, value, 60);
    return (await cache.get(key))?.value === value;
  } catch {
    return false;
  }
}

describe("RedisCache during a Redis outage", () => {
  let server: ThrowawayRedis;
  let client: Redis;
  let cache: RedisCache;
  const errors: Error[] = [];
  let recoveries = 0;

  beforeAll(async () => {
    server = await startThrowawayRedis();
    client = createRedisClient({
      addr: server.addr,
      maxReconnectDelayMs: 200,
      onError: (err) => errors.push(err),
      onReady: () => void (recoveries += 1),
    });
    cache = new RedisCache(client);
    await untilReady(client);
  });

  afterEach(async () => {
    server.thaw();
    if (!server.running) await server.restart();
    await untilReady(client); // the next test starts connected, not halfway through a reconnection
  });

  afterAll(async () => {
    await cache?.close();
    await server?.close();
  });

  test("works while the server is up", async () => {
    expect(await works(cache, "k")).toBe(true);
    expect(errors).toEqual([]);
  });

  test("with the server killed, get and put reject with CacheError fast, and the outage is reported once", async () => {
    expect(await works(cache, "k")).toBe(true);
    const errorsBefore = errors.length;
    await server.kill();

    for (let i = 0; i < 5; i++) {
      // Failed at once, not at the command timeout: the client does not queue while disconnected.
      const get = await timed(cache.get("k"));
      expect(failedFast(get.error)).toBe(true);
      const put = await timed(cache.put("k", "v", 60));
      expect(failedFast(put.error)).toBe(true);
      await next(client, "error"); // one more reconnection attempt has failed meanwhile
    }
    // Five reconnection attempts have failed by now (each awaited above); only the first error was reported.
    expect(errors.length).toBe(errorsBefore + 1);
  });

  test("after the server restarts on the same port, the client works again by itself", async () => {
    const failedAttempt = next(client, "error");
    await server.kill();
    await timed(cache.get("k")); // fails; the client is now reconnecting
    await failedAttempt; // the client has seen the outage: its recovery is reported
    const recoveriesBefore = recoveries;
    const reconnected = next(client, "ready");
    await server.restart();
    await reconnected;
    expect(await works(cache, "k2")).toBe(true);
    expect(recoveries).toBe(recoveriesBefore + 1);
  });

  test("with the server frozen (accepting, never answering), calls reject at the command timeout", async () => {
    expect(await works(cache, "k3")).toBe(true);
    server.freeze();
    const get = await timed(cache.get("k3"));
    expect(get.error).toBeInstanceOf(CacheError);
    expect(String((get.error as CacheError).cause)).toMatch(/timed out/i);
    expect(get.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50); // not before the timeout, less a timer's early tick
    expect(get.ms).toBeLessThan(WELL_PAST_THE_TIMEOUT_MS);
    const put = await timed(cache.put("k3", "v", 60));
    expect(put.error).toBeInstanceOf(CacheError);
    expect(String((put.error as CacheError).cause)).toMatch(/timed out/i);
    expect(put.ms).toBeLessThan(WELL_PAST_THE_TIMEOUT_MS);
    server.thaw();
    // Polled: a thawed server answering again has no event of its own (the client never saw it leave).
    await waitUntil("the cache did not work after thawing", async () => (await works(cache, "k3")) || "not yet", { timeoutMs: 5000, intervalMs: 25 });
  });
});

describe("RedisCache started while Redis is down", () => {
  test("fails fast instead of queueing, then works once Redis comes up", async () => {
    const port = await freePort();
    const errors: Error[] = [];
    let reported = (): void => {};
    const firstErrorReported = new Promise<void>((resolve) => (reported = resolve));
    const client = createRedisClient({
      addr: `127.0.0.1:${port}`,
      maxReconnectDelayMs: 200,
      onError: (e) => {
        errors.push(e);
        reported();
      },
    });
    const cache = new RedisCache(client);
    let server: ThrowawayRedis | undefined;
    try {
      for (let i = 0; i < 3; i++) {
        const get = await timed(cache.get("k"));
        expect(failedFast(get.error)).toBe(true);
      }
      await firstErrorReported;

      const connected = next(client, "ready");
      server = await startThrowawayRedis({ port });
      await connected;
      expect(await works(cache, "k")).toBe(true);
      expect(errors.length).toBe(1);
    } finally {
      await cache.close();
      await server?.close();
    }
  });
});

import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import type { BackoffOptions } from "./backoff.ts";
import { startDeadline } from "./deadline.ts";
import { type StrategyOptions, buildStrategy } from "./build-strategy.ts";
import { type Outcome, type StrategyName, strategyNames } from "./strategy.ts";

/** Moves the clock the breaker reads (Date.now, as cockatiel does) forward, instead of waiting. */
const passTime = (ms: number) => setSystemTime(new Date(Date.now() + ms));
afterEach(() => setSystemTime());

class ClientError extends Error {}
const isFailure = (e: unknown) => e instanceof Error && !(e instanceof ClientError) && e.name !== "AbortError";
const backoff: BackoffOptions = { initialIntervalMs: 20, multiplier: 1.5, randomizationFactor: 0, maxIntervalMs: 1000 };

function build(name: StrategyName, over: Partial<StrategyOptions> = {}) {
  return buildStrategy({
    name,
    backoff,
    maxRetries: 7,
    breaker: { failureThreshold: 1, openMs: 5000, intervalMs: 10_000 },
    isFailure,
    ...over,
  });
}

type Behaviour = "ok" | "fail" | "client";
/** An upstream that answers per `script` (last entry repeats) and counts calls. */
function upstream(...script: Behaviour[]) {
  let calls = 0;
  return {
    calls: () => calls,
    call: async (_signal: AbortSignal): Promise<string> => {
      const b = script[Math.min(calls, script.length - 1)];
      calls++;
      if (b === "fail") throw new Error("upstream down");
      if (b === "client") throw new ClientError("404");
      return "books";
    },
  };
}

async function run<T>(strategy: { execute: (c: (s: AbortSignal) => Promise<T>, d: ReturnType<typeof startDeadline>) => Promise<Outcome<T>> }, call: (s: AbortSignal) => Promise<T>, timeoutMs = 2000) {
  const d = startDeadline(timeoutMs);
  const started = Date.now();
  try {
    const outcome = await strategy.execute(call, d);
    // `expired`: whether the answer came after the deadline (an order, not a speed).
    return { outcome, ms: Date.now() - started, expired: d.expired() };
  } finally {
    d.dispose();
  }
}

describe("strategy selection", () => {
  test("builds each of the four strategies of the contract with the policies it needs", () => {
    expect(strategyNames).toEqual(["none", "retry", "breaker", "combined"]);
    for (const name of strategyNames) expect(build(name).strategy.name).toBe(name);
    expect(build("none").strategy.name).toBe("none");
    expect(build("combined").breaker).toBeDefined();
    expect(build("combined").retry).toBeDefined();
    expect(build("retry").breaker).toBeUndefined();
    expect(build("breaker").retry).toBeUndefined();
  });
});

describe("every strategy answers a healthy upstream fresh with one call", () => {
  for (const name of ["none", "retry", "breaker", "combined"] as const) {
    test(name, async () => {
      const up = upstream("ok");
      const { outcome } = await run(build(name).strategy, up.call);
      expect(outcome).toEqual({ kind: "fresh", value: "books" });
      expect(up.calls()).toBe(1);
    });
  }
});

describe("a 4xx is answered 502 at once, not retried, and does not open a breaker", () => {
  for (const name of ["none", "retry", "breaker", "combined"] as const) {
    test(name, async () => {
      const built = build(name);
      const up = upstream("client");
      const { outcome } = await run(built.strategy, up.call);
      expect(outcome.kind).toBe("failed");
      expect(outcome.kind === "failed" && outcome.status).toBe(502);
      expect(up.calls()).toBe(1);
      expect(built.breaker?.state() ?? "closed").toBe("closed");
    });
  }
});

describe("none", () => {
  test("answers a failure 502 at once after one call", async () => {
    const up = upstream("fail");
    const { outcome } = await run(build("none").strategy, up.call);
    expect(outcome.kind === "failed" && outcome.status).toBe(502);
    expect(up.calls()).toBe(1);
  });
});

describe("retry", () => {
  test("retries until the upstream answers", async () => {
    const up = upstream("fail", "fail", "ok");
    const { outcome } = await run(build("retry").strategy, up.call);
    expect(outcome).toEqual({ kind: "fresh", value: "books" });
    expect(up.calls()).toBe(3);
  });

  test("answers 504 at the request deadline, never earlier, never from the cache", async () => {
    const up = upstream("fail");
    const { outcome, ms, expired } = await run(build("retry").strategy, up.call, 300);
    expect(outcome.kind === "failed" && outcome.status).toBe(504);
    expect(expired).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(295); // real time: never before the 300 ms deadline, less a timer's early tick
    expect(up.calls()).toBeGreaterThan(3);
  });
});

describe("breaker", () => {
  test("answers 502 for the failure that opens it, then the cache at once without calling", async () => {
    const built = build("breaker");
    const up = upstream("fail");
    expect((await run(built.strategy, up.call)).outcome).toMatchObject({ kind: "failed", status: 502 });
    const { outcome } = await run(built.strategy, up.call);
    expect(outcome.kind).toBe("fallback");
    expect(outcome.kind === "fallback" && outcome.retryAfterMs).toBeGreaterThan(4000);
    expect(up.calls()).toBe(1);
  });

  test("failures below the threshold are answered 502", async () => {
    const built = build("breaker", { breaker: { failureThreshold: 3, openMs: 5000, intervalMs: 10_000 } });
    const up = upstream("fail");
    for (let i = 0; i < 3; i++) expect((await run(built.strategy, up.call)).outcome).toMatchObject({ kind: "failed", status: 502 });
    expect((await run(built.strategy, up.call)).outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(3);
  });

  test("a failed half-open probe is answered from the cache, not with an error", async () => {
    const built = build("breaker", { breaker: { failureThreshold: 1, openMs: 5000, intervalMs: 10_000 } });
    const up = upstream("fail");
    await run(built.strategy, up.call);
    passTime(5001);
    expect(built.breaker?.state()).toBe("half-open");
    const { outcome } = await run(built.strategy, up.call);
    expect(outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(2);
    expect(built.breaker?.state()).toBe("open");
  });

  test("while the probe is in flight, other requests get the cache at once", async () => {
    const built = build("breaker", { breaker: { failureThreshold: 1, openMs: 5000, intervalMs: 10_000 } });
    await run(built.strategy, upstream("fail").call);
    passTime(5001);
    let release!: () => void;
    const slow = (_s: AbortSignal) => new Promise<string>((resolve) => (release = () => resolve("books")));
    const d = startDeadline(2000);
    const probe = built.strategy.execute(slow, d);
    const other = upstream("ok");
    // Queued behind the probe, which never ends by itself, this would wait for release() below: the
    // test would fail at its timeout.
    const { outcome } = await run(built.strategy, other.call);
    expect(outcome.kind).toBe("fallback");
    expect(other.calls()).toBe(0);
    release();
    expect(await probe).toEqual({ kind: "fresh", value: "books" });
    d.dispose();
    expect(built.breaker?.state()).toBe("closed");
  });
});

describe("combined", () => {
  test("the failure that opens the breaker ends the retrying at once: cache, no sleep", async () => {
    const built = build("combined", { backoff: { ...backoff, initialIntervalMs: 1000 } });
    const retries: number[] = [];
    built.retry!.onRetry((e) => retries.push(e.delayMs));
    const up = upstream("fail");
    const { outcome } = await run(built.strategy, up.call, 5000);
    expect(outcome.kind).toBe("fallback");
    expect(retries).toEqual([]); // no backoff sleep began
    expect(up.calls()).toBe(1);
  });

  test("retries through a closed breaker until it opens, then serves the cache", async () => {
    const built = build("combined", { breaker: { failureThreshold: 3, openMs: 5000, intervalMs: 10_000 } });
    const up = upstream("fail");
    const { outcome } = await run(built.strategy, up.call);
    expect(outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(3);
    expect(built.breaker?.state()).toBe("open");
  });

  test("retries at most RETRY_MAX_RETRIES times, then serves the cache", async () => {
    const built = build("combined", { maxRetries: 2, breaker: { failureThreshold: 100, openMs: 5000, intervalMs: 10_000 } });
    const up = upstream("fail");
    const { outcome } = await run(built.strategy, up.call);
    expect(outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(3);
  });

  test("a retry that succeeds is fresh", async () => {
    const built = build("combined", { breaker: { failureThreshold: 3, openMs: 5000, intervalMs: 10_000 } });
    const up = upstream("fail", "ok");
    expect((await run(built.strategy, up.call)).outcome).toEqual({ kind: "fresh", value: "books" });
    expect(up.calls()).toBe(2);
  });

  test("serves the cache before the deadline when no further retry fits", async () => {
    // Delays 40, 120, 360 ms: after ~160 ms, 360 no longer fits in 400.
    const built = build("combined", {
      backoff: { initialIntervalMs: 40, multiplier: 3, randomizationFactor: 0, maxIntervalMs: 10_000 },
      maxRetries: 100,
      breaker: { failureThreshold: 100, openMs: 5000, intervalMs: 10_000 },
    });
    const up = upstream("fail");
    const { outcome, expired } = await run(built.strategy, up.call, 400);
    expect(outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(3);
    expect(expired).toBe(false);
  });

  test("while open, answers from the cache without calling", async () => {
    const built = build("combined");
    const up = upstream("fail");
    await run(built.strategy, up.call);
    const { outcome } = await run(built.strategy, up.call);
    expect(outcome.kind).toBe("fallback");
    expect(up.calls()).toBe(1);
  });
});

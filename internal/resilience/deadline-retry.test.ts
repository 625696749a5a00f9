import { afterEach, beforeEach, describe, expect, setSystemTime, test } from "bun:test";
import { type BackoffOptions, articleBackoffOptions, backoffInterval } from "./backoff.ts";
import { type Deadline, DeadlineExceededError, startDeadline } from "./deadline.ts";
import { type GiveUpEvent, type RetryOptions, createRetry } from "./deadline-retry.ts";
import { rejectionOf } from "../../tools/kit/rejection.ts";

class ClientError extends Error {}
const shouldRetry = (e: unknown) => !(e instanceof ClientError);
// No jitter: 20, 30, 45, 67.5, ... ms.
const backoff: BackoffOptions = { initialIntervalMs: 20, multiplier: 1.5, randomizationFactor: 0, maxIntervalMs: 1000 };

// Time is driven: a backoff "sleep" moves the system clock instead of waiting. It still yields to
// the event loop once: a retry that never stops would otherwise loop on promise callbacks alone,
// where neither the deadline's timer nor the test's timeout can ever fire. Rejections are awaited
// with rejectionOf, never `expect(p).rejects`, for the same reason (Bun waits inside that matcher).
let slept: number[] = [];
const clockSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
  slept.push(ms);
  setSystemTime(new Date(Date.now() + ms));
};
beforeEach(() => {
  slept = [];
  setSystemTime(new Date("2026-01-01T00:00:00Z"));
});
afterEach(() => setSystemTime());

function failing(times: number, error: () => Error = () => new Error("upstream down")) {
  let calls = 0;
  return {
    calls: () => calls,
    fn: async (_signal: AbortSignal) => {
      calls++;
      if (calls <= times) throw error();
      return "books";
    },
  };
}

function retryWith(options: Partial<RetryOptions>) {
  const retry = createRetry({ backoff, maxRetries: 5, shouldRetry, sleep: clockSleep, ...options });
  const givenUp: GiveUpEvent[] = [];
  retry.onGiveUp((e) => givenUp.push(e));
  return { retry, givenUp };
}

async function withDeadline<T>(ms: number, run: (d: Deadline) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const d = startDeadline(ms, parent);
  try {
    return await run(d);
  } finally {
    d.dispose();
  }
}

describe("createRetry", () => {
  test("maxRetries N makes N retries: N+1 calls, then rethrows the last failure and gives up once", async () => {
    const { retry, givenUp } = retryWith({ maxRetries: 3 });
    const delays: number[] = [];
    retry.onRetry((e) => delays.push(e.delayMs));
    const call = failing(Number.POSITIVE_INFINITY);
    expect((await rejectionOf(withDeadline(10_000, (d) => retry.execute(call.fn, d)))).message).toBe("upstream down");
    expect(call.calls()).toBe(4);
    expect(delays).toEqual([20, 30, 45]);
    expect(slept).toEqual([20, 30, 45]);
    expect(givenUp.map((e) => [e.reason, e.attempts])).toEqual([["exhausted", 4]]);
  });

  test("succeeds on a later attempt, without a give-up event", async () => {
    const { retry, givenUp } = retryWith({});
    const call = failing(2);
    expect(await withDeadline(10_000, (d) => retry.execute(call.fn, d))).toBe("books");
    expect(call.calls()).toBe(3);
    expect(givenUp).toEqual([]);
  });

  test("does not retry an error it is told not to (a 4xx), and says so", async () => {
    const { retry, givenUp } = retryWith({});
    const call = failing(1, () => new ClientError("404"));
    expect(await rejectionOf(withDeadline(10_000, (d) => retry.execute(call.fn, d)))).toBeInstanceOf(ClientError);
    expect(call.calls()).toBe(1);
    expect(givenUp.map((e) => e.reason)).toEqual(["not-retryable"]);
  });

  test("gives up before the deadline when the next delay would reach it: no sleep into it, no further attempt", async () => {
    // Delays 40, 120, 360 ms: after 160 ms, 360 no longer fits in a 400 ms deadline.
    const wide: BackoffOptions = { initialIntervalMs: 40, multiplier: 3, randomizationFactor: 0, maxIntervalMs: 10_000 };
    const { retry, givenUp } = retryWith({ backoff: wide, maxRetries: Number.POSITIVE_INFINITY });
    const call = failing(Number.POSITIVE_INFINITY);
    const error = await rejectionOf(withDeadline(400, (d) => retry.execute(call.fn, d)));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.cause).toBeInstanceOf(Error);
    expect(slept).toEqual([40, 120]);
    expect(call.calls()).toBe(3);
    expect(givenUp.map((e) => [e.reason, e.attempts])).toEqual([["deadline", 3]]);
  });

  test("waits the Retry-After the upstream asked for when it is longer than the backoff", async () => {
    const retryAfterMsOf = (e: unknown) => (e as { retryAfterMs?: number }).retryAfterMs;
    const { retry } = retryWith({ maxRetries: 2, retryAfterMsOf });
    const call = failing(2, () => Object.assign(new Error("503"), { retryAfterMs: 80 }));
    expect(await withDeadline(10_000, (d) => retry.execute(call.fn, d))).toBe("books");
    expect(slept).toEqual([80, 80]);
  });

  test("a Retry-After past the deadline ends the retry at once", async () => {
    const { retry, givenUp } = retryWith({ retryAfterMsOf: () => 30_000 });
    const call = failing(Number.POSITIVE_INFINITY);
    expect(await rejectionOf(withDeadline(5_000, (d) => retry.execute(call.fn, d)))).toBeInstanceOf(DeadlineExceededError);
    expect(slept).toEqual([]);
    expect(givenUp.map((e) => e.reason)).toEqual(["deadline"]);
  });

  test("the article's jittered delays: retry k waits within [0.5, 1.5] × interval k-1", async () => {
    const { retry } = retryWith({ backoff: articleBackoffOptions, maxRetries: 10 });
    const call = failing(Number.POSITIVE_INFINITY);
    expect((await rejectionOf(withDeadline(1_000_000, (d) => retry.execute(call.fn, d)))).message).toBe("upstream down");
    expect(slept).toHaveLength(10);
    slept.forEach((ms, k) => {
      const interval = backoffInterval(k, articleBackoffOptions);
      expect(ms).toBeGreaterThanOrEqual(0.5 * interval);
      expect(ms).toBeLessThanOrEqual(1.5 * interval);
    });
  });

  test("the client leaving ends the backoff at once (real timers): no further attempt, reason aborted", async () => {
    setSystemTime();
    const retry = createRetry({ backoff: { ...backoff, initialIntervalMs: 60_000 }, maxRetries: 5, shouldRetry });
    const givenUp: GiveUpEvent[] = [];
    retry.onGiveUp((e) => givenUp.push(e));
    const retrying = new Promise<void>((resolve) => retry.onRetry(() => resolve()));
    const call = failing(Number.POSITIVE_INFINITY);
    const client = new AbortController();
    const pending = withDeadline(120_000, (d) => retry.execute(call.fn, d), client.signal);
    await retrying; // the first attempt failed; now in a 60 s backoff
    client.abort();
    expect(await rejectionOf(pending)).toBeInstanceOf(DeadlineExceededError);
    expect(call.calls()).toBe(1);
    expect(givenUp.map((e) => e.reason)).toEqual(["aborted"]);
  });

  test("makes no attempt once the request has ended", async () => {
    const { retry, givenUp } = retryWith({});
    const call = failing(0);
    const client = new AbortController();
    client.abort();
    expect(await rejectionOf(withDeadline(10_000, (d) => retry.execute(call.fn, d), client.signal))).toBeInstanceOf(DeadlineExceededError);
    expect(call.calls()).toBe(0);
    expect(givenUp.map((e) => [e.reason, e.attempts])).toEqual([["aborted", 0]]);
  });
});

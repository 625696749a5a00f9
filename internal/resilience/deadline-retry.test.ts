import { describe, expect, test } from "bun:test";
import type { BackoffOptions } from "./backoff.ts";
import { DeadlineExceededError, startDeadline } from "./deadline.ts";
import { createRetry } from "./retry.ts";

class ClientError extends Error {}
const shouldRetry = (e: unknown) => !(e instanceof ClientError);
// No jitter, small intervals: 20, 30, 45, 67.5, ... ms.
const backoff: BackoffOptions = { initialIntervalMs: 20, multiplier: 1.5, randomizationFactor: 0, maxIntervalMs: 1000 };

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

describe("createRetry", () => {
  test("maxRetries N makes N retries: N+1 calls, then rethrows the last failure", async () => {
    const retry = createRetry({ backoff, maxRetries: 3, shouldRetry });
    const delays: number[] = [];
    let gaveUp = 0;
    retry.policy.onRetry((e) => delays.push(e.delay));
    retry.policy.onGiveUp(() => gaveUp++);
    const call = failing(Number.POSITIVE_INFINITY);
    const d = startDeadline(10_000);
    await expect(retry.execute(call.fn, d)).rejects.toThrow("upstream down");
    d.dispose();
    expect(call.calls()).toBe(4);
    expect(delays).toEqual([20, 30, 45]);
    expect(gaveUp).toBe(1);
  });

  test("succeeds on a later attempt", async () => {
    const retry = createRetry({ backoff, maxRetries: 5, shouldRetry });
    const call = failing(2);
    const d = startDeadline(10_000);
    expect(await retry.execute(call.fn, d)).toBe("books");
    d.dispose();
    expect(call.calls()).toBe(3);
  });

  test("does not retry an error it is told not to (a 4xx)", async () => {
    const retry = createRetry({ backoff, maxRetries: 5, shouldRetry });
    const call = failing(1, () => new ClientError("404"));
    const d = startDeadline(10_000);
    await expect(retry.execute(call.fn, d)).rejects.toBeInstanceOf(ClientError);
    d.dispose();
    expect(call.calls()).toBe(1);
  });

  test("gives up before the deadline when the next delay would reach it, and makes no further attempt", async () => {
    // Delays 40, 120, 360 ms: after ~160 ms, 360 no longer fits in a 400 ms deadline.
    const wide: BackoffOptions = { initialIntervalMs: 40, multiplier: 3, randomizationFactor: 0, maxIntervalMs: 10_000 };
    const retry = createRetry({ backoff: wide, maxRetries: Number.POSITIVE_INFINITY, shouldRetry });
    const call = failing(Number.POSITIVE_INFINITY);
    const d = startDeadline(400);
    const error = await retry.execute(call.fn, d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(d.signal.aborted).toBe(false); // it did not sleep into the deadline
    expect(call.calls()).toBe(3);
    await Bun.sleep(400);
    expect(call.calls()).toBe(3);
    d.dispose();
  });

  test("waits the Retry-After the upstream asked for", async () => {
    const retryAfterMsOf = (e: unknown) => (e as { retryAfterMs?: number }).retryAfterMs;
    const retry = createRetry({ backoff, maxRetries: 1, shouldRetry, retryAfterMsOf });
    const delays: number[] = [];
    retry.policy.onRetry((e) => delays.push(e.delay));
    const call = failing(1, () => Object.assign(new Error("503"), { retryAfterMs: 80 }));
    const started = Date.now();
    const d = startDeadline(10_000);
    expect(await retry.execute(call.fn, d)).toBe("books");
    d.dispose();
    expect(delays).toEqual([80]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });

  test("makes no attempt after the client has gone", async () => {
    const retry = createRetry({ backoff: { ...backoff, initialIntervalMs: 50 }, maxRetries: 5, shouldRetry });
    const call = failing(Number.POSITIVE_INFINITY);
    const client = new AbortController();
    const d = startDeadline(10_000, client.signal);
    const pending = retry.execute(call.fn, d);
    await Bun.sleep(10); // first attempt failed, sleeping 50 ms
    client.abort();
    await expect(pending).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(call.calls()).toBe(1);
    d.dispose();
  });
});

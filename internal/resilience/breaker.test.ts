import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import { BrokenCircuitError, CircuitState } from "cockatiel";
import { createBreaker } from "./breaker.ts";

class ClientError extends Error {}
const isFailure = (e: unknown) => !(e instanceof ClientError);
const signal = new AbortController().signal;
const T0 = new Date("2030-01-01T00:00:00Z").getTime();
const at = (ms: number) => setSystemTime(new Date(T0 + ms));
const fail = (e: Error = new Error("upstream down")) => () => Promise.reject(e);
const ok = () => Promise.resolve("books");

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterEach(() => setSystemTime());

describe("createBreaker", () => {
  test("opens after the threshold of consecutive failures and then refuses calls without making them", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 2, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow("upstream down");
    expect(b.state()).toBe("closed");
    await expect(b.execute(fail(), signal)).rejects.toThrow("upstream down");
    expect(b.state()).toBe("open");
    expect(b.isRejecting()).toBe(true);
    let called = false;
    await expect(
      b.execute(async () => {
        called = true;
        return "x";
      }, signal),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(called).toBe(false);
  });

  test("a 4xx-like error passes through and does not count as a failure", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(new ClientError("404")), signal)).rejects.toBeInstanceOf(ClientError);
    expect(b.state()).toBe("closed");
    expect(b.isRejecting()).toBe(false);
  });

  test("state and retryAfterMs follow the break time + openMs although cockatiel still says Open", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    expect(b.retryAfterMs()).toBe(5000);
    at(3000);
    expect(b.state()).toBe("open");
    expect(b.retryAfterMs()).toBe(2000);
    at(5000);
    expect(b.policy.state).toBe(CircuitState.Open);
    expect(b.state()).toBe("half-open");
    expect(b.retryAfterMs()).toBe(0);
    expect(b.isRejecting()).toBe(false);
  });

  test("lets exactly one probe through; callers during the probe are refused at once, not queued", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(5000);
    const probe = deferred<string>();
    let probes = 0;
    const first = b.execute(() => {
      probes++;
      return probe.promise;
    }, signal);
    expect(b.isRejecting()).toBe(true);
    expect(b.state()).toBe("half-open");
    await expect(b.execute(ok, signal)).rejects.toBeInstanceOf(BrokenCircuitError);
    probe.resolve("books");
    expect(await first).toBe("books");
    expect(probes).toBe(1);
    expect(b.state()).toBe("closed");
    expect(await b.execute(ok, signal)).toBe("books");
  });

  test("a failed probe reopens the breaker for another openMs", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(6000);
    await expect(b.execute(fail(), signal)).rejects.toThrow("upstream down");
    expect(b.state()).toBe("open");
    expect(b.retryAfterMs()).toBe(5000);
  });

  test("emits one event per transition: break, half-open, reset", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 1000, intervalMs: 10_000, isFailure });
    const events: string[] = [];
    b.policy.onBreak(() => events.push("break"));
    b.policy.onHalfOpen(() => events.push("half-open"));
    b.policy.onReset(() => events.push("reset"));
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    await expect(b.execute(ok, signal)).rejects.toBeInstanceOf(BrokenCircuitError);
    at(1000);
    await b.execute(ok, signal);
    expect(events).toEqual(["break", "half-open", "reset"]);
  });

  test("closed-state failures older than the interval are forgotten", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 2, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(10_000);
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    expect(b.state()).toBe("closed");
    at(10_500);
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    expect(b.state()).toBe("open");
  });
});

describe("Breaker.probe: a background call that no client waits for", () => {
  test("runs while the breaker is open, before the open period ends, and its success closes it", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 2, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(1000);
    expect(b.isRejecting()).toBe(true);
    const resets: unknown[] = [];
    b.policy.onReset(() => resets.push("closed"));
    expect(await b.probe(ok, signal)).toBe("books");
    expect(b.state()).toBe("closed");
    expect(resets).toEqual(["closed"]);
    // The failures from before count no more: one new failure does not reopen it (threshold 2).
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    expect(b.state()).toBe("closed");
  });

  test("a failed probe leaves the breaker open, with the same open period", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(1000);
    await expect(b.probe(fail(), signal)).rejects.toThrow("upstream down");
    expect(b.state()).toBe("open");
    expect(b.retryAfterMs()).toBe(4000);
  });

  test("a success while a client's half-open probe is in flight closes the breaker too", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.execute(fail(), signal)).rejects.toThrow();
    at(5000);
    const hung = deferred<string>();
    const clientProbe = b.execute(() => hung.promise, signal);
    expect(b.isRejecting()).toBe(true);
    expect(await b.probe(ok, signal)).toBe("books");
    expect(b.isRejecting()).toBe(false);
    hung.resolve("late");
    expect(await clientProbe).toBe("late");
    expect(b.state()).toBe("closed");
  });

  test("while closed it counts like any call", async () => {
    at(0);
    const b = createBreaker({ failureThreshold: 1, openMs: 5000, intervalMs: 10_000, isFailure });
    await expect(b.probe(fail(), signal)).rejects.toThrow();
    expect(b.state()).toBe("open");
  });
});

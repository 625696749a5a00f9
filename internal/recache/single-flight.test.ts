import { describe, expect, test } from "bun:test";
import { SingleFlight } from "./single-flight.ts";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("SingleFlight", () => {
  test("concurrent calls for one key share one execution and its result", async () => {
    const flights = new SingleFlight<string, number>();
    const pending = deferred<number>();
    let calls = 0;
    const fn = () => {
      calls++;
      return pending.promise;
    };
    const results = Promise.all(Array.from({ length: 50 }, () => flights.run("k", fn)));
    pending.resolve(7);
    expect(await results).toEqual(Array(50).fill(7));
    expect(calls).toBe(1);
  });

  test("a rejection reaches every waiter, and the next call starts afresh", async () => {
    const flights = new SingleFlight<string, number>();
    const failing = deferred<number>();
    const a = flights.run("k", () => failing.promise);
    const b = flights.run("k", () => Promise.resolve(1));
    failing.reject(new Error("down"));
    await expect(a).rejects.toThrow("down");
    await expect(b).rejects.toThrow("down");
    expect(flights.size).toBe(0);
    expect(await flights.run("k", () => Promise.resolve(2))).toBe(2);
  });

  test("different keys do not wait for each other", async () => {
    const flights = new SingleFlight<string, string>();
    const slow = deferred<string>();
    const a = flights.run("a", () => slow.promise);
    expect(await flights.run("b", () => Promise.resolve("b"))).toBe("b");
    slow.resolve("a");
    expect(await a).toBe("a");
  });

  test("a settled call is not cached", async () => {
    const flights = new SingleFlight<string, number>();
    let calls = 0;
    await flights.run("k", async () => ++calls);
    await flights.run("k", async () => ++calls);
    expect(calls).toBe(2);
  });
});

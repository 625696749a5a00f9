import { describe, expect, test } from "bun:test";
import { Bulkhead } from "./bulkhead.ts";
import { rejectionOf } from "../../tools/kit/rejection.ts";

/** Settles within the current macrotask or reports "pending". */
async function state(promise: Promise<unknown>): Promise<"resolved" | "rejected" | "pending"> {
  const pending = Symbol("pending");
  const outcome = await Promise.race([
    promise.then(
      () => "resolved" as const,
      () => "rejected" as const,
    ),
    new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending))),
  ]);
  return outcome === pending ? "pending" : outcome;
}

describe("Bulkhead", () => {
  test("lets `capacity` holders in at once and makes the next one wait for a release", async () => {
    const bulkhead = new Bulkhead(2);
    await bulkhead.acquire();
    await bulkhead.acquire();
    const third = bulkhead.acquire();
    expect(await state(third)).toBe("pending");
    expect(bulkhead.waiting).toBe(1);
    bulkhead.release();
    expect(await state(third)).toBe("resolved");
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.waiting).toBe(0);
  });

  test("hands released slots to waiters in arrival order, before any newcomer", async () => {
    const bulkhead = new Bulkhead(1);
    await bulkhead.acquire();
    const order: string[] = [];
    const first = bulkhead.acquire().then(() => order.push("first"));
    const second = bulkhead.acquire().then(() => order.push("second"));
    bulkhead.release();
    const newcomer = bulkhead.acquire().then(() => order.push("newcomer"));
    await first;
    expect(await state(second)).toBe("pending");
    bulkhead.release();
    await second;
    bulkhead.release();
    await newcomer;
    expect(order).toEqual(["first", "second", "newcomer"]);
    expect(bulkhead.active).toBe(1);
  });

  test("a waiter whose signal aborts leaves at once with the reason and never takes a slot", async () => {
    const bulkhead = new Bulkhead(1);
    await bulkhead.acquire();
    const controller = new AbortController();
    const gaveUp = bulkhead.acquire(controller.signal);
    const next = bulkhead.acquire();
    const reason = new Error("client gone");
    controller.abort(reason);
    expect(await rejectionOf(gaveUp)).toBe(reason); // not expect().rejects: a waiter left pending must fail, not hang the run
    expect(bulkhead.waiting).toBe(1);
    bulkhead.release();
    // The slot went to the live waiter behind it, not to the one that gave up.
    expect(await state(next)).toBe("resolved");
    expect(bulkhead.active).toBe(1);
    bulkhead.release();
    expect(bulkhead.active).toBe(0);
  });

  test("an already aborted signal is refused without taking a free slot", async () => {
    const bulkhead = new Bulkhead(1);
    const reason = new Error("deadline");
    await expect(bulkhead.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(bulkhead.active).toBe(0);
  });

  test("an abort after the slot was granted changes nothing", async () => {
    const bulkhead = new Bulkhead(1);
    await bulkhead.acquire();
    const controller = new AbortController();
    const granted = bulkhead.acquire(controller.signal);
    bulkhead.release();
    await granted;
    controller.abort();
    expect(bulkhead.active).toBe(1);
    expect(bulkhead.waiting).toBe(0);
  });

  test("a release without an acquire is a bug and throws", () => {
    expect(() => new Bulkhead(1).release()).toThrow("released more often than acquired");
  });

  test.each([0, -1, 1.5, Number.NaN])("refuses capacity %p", (capacity) => {
    expect(() => new Bulkhead(capacity)).toThrow(RangeError);
  });
});

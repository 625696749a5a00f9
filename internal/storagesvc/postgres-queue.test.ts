import { describe, expect, test } from "bun:test";
// postgres.js's internal queue (not exported, untyped): our patch (patches/postgres@3.4.9.patch) is what is tested.
// @ts-expect-error no declaration file for this internal module
import QueueUntyped from "../../node_modules/postgres/src/queue.js";

interface PgQueue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}
const Queue = QueueUntyped as <T>() => PgQueue<T>;

/** Lengths of the arrays `Array.prototype.indexOf` is called on while `run` runs. */
function indexOfLengths(run: () => void): number[] {
  const lengths: number[] = [];
  const original = Array.prototype.indexOf;
  Array.prototype.indexOf = function (this: unknown[], ...args: Parameters<typeof original>) {
    lengths.push(this.length);
    return original.apply(this, args);
  };
  try {
    run();
  } finally {
    Array.prototype.indexOf = original;
  }
  return lengths;
}

describe("postgres.js connection queue (patched, porsager/postgres#747)", () => {
  test("keeps first-in first-out order and removes from the middle", () => {
    const queue = Queue<string>();
    for (const x of ["a", "b", "c", "d"]) queue.push(x);
    expect(queue.shift()).toBe("a");
    expect(queue.remove("c")).toBe("c");
    expect(queue.remove("c")).toBeNull();
    expect(queue.remove("a")).toBeNull(); // already shifted out
    expect(queue.length).toBe(2);
    expect([queue.shift(), queue.shift()]).toEqual(["b", "d"]);
    expect(queue.length).toBe(0);
  });

  test("a queue that never runs empty stays small: remove() does not scan every past entry", () => {
    // What the busy-connection queue sees while all connections are busy: each query shifts a
    // connection out and pushes it back, and the queue is never empty. Unpatched, its array grew
    // by one slot per query and every remove() scanned all of them (the pool slowed down with uptime).
    const connections = Array.from({ length: 10 }, (_, i) => ({ id: i }));
    const queue = Queue<{ id: number }>();
    for (const c of connections) queue.push(c);
    for (let query = 0; query < 100_000; query++) queue.push(queue.shift()!);

    const fourth = connections[3]!;
    const scanned = indexOfLengths(() => expect(queue.remove(fourth)).toBe(fourth));
    expect(scanned).toHaveLength(1);
    expect(scanned[0]).toBeLessThan(2_100);
    expect(queue.length).toBe(9);
  });
});

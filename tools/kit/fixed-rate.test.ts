import { describe, expect, test } from "bun:test";
import { sendAtFixedRate } from "./fixed-rate.ts";

/** A clock that moves only when the loop sleeps, by `lateBy(ms)` more than it asked for. */
function manualClock(lateBy: (asked: number) => number = () => 0) {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms + lateBy(ms)) };
}

describe("sendAtFixedRate", () => {
  test("sends rate × duration requests at their own times", async () => {
    const clock = manualClock();
    const times: number[] = [];
    const sent = await sendAtFixedRate({ ratePerSecond: 1000, startAt: 0, stopAt: 100, ...clock }, (at) => times.push(at));
    expect(sent).toBe(100);
    expect(times.slice(0, 3)).toEqual([0, 1, 2]);
    expect(times.at(-1)).toBe(99);
  });

  test("a loop that wakes 50 ms late sends what it owes at once, each with its intended time", async () => {
    let first = true;
    const clock = manualClock(() => (first ? ((first = false), 50) : 0));
    const batches: Array<{ at: number; intended: number }> = [];
    await sendAtFixedRate({ ratePerSecond: 1000, startAt: 0, stopAt: 100, ...clock }, (intended) => batches.push({ at: clock.now(), intended }));
    expect(batches).toHaveLength(100);
    const lateOnes = batches.filter((b) => b.at - b.intended >= 40);
    expect(lateOnes.length).toBeGreaterThanOrEqual(10);
    expect(batches.map((b) => b.intended)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  test("above 1,000 req/s, each millisecond's requests leave together, timed from that millisecond", async () => {
    const clock = manualClock();
    const times: number[] = [];
    await sendAtFixedRate({ ratePerSecond: 3000, startAt: 0, stopAt: 10, ...clock }, (at) => times.push(at));
    expect(times).toHaveLength(30);
    expect(times.slice(0, 7)).toEqual([0, 0, 0, 1, 1, 1, 2]);
  });

  test("stops when its signal aborts", async () => {
    const stop = new AbortController();
    const clock = manualClock();
    const sent = await sendAtFixedRate({ ratePerSecond: 100, startAt: 0, stopAt: Number.POSITIVE_INFINITY, signal: stop.signal, ...clock }, () => {
      if (clock.now() >= 1000) stop.abort();
    });
    expect(sent).toBe(101);
  });
});

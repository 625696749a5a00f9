import { describe, expect, test } from "bun:test";
import type { RequestRecord } from "../drill/load-worker.ts";
import { buildTimeline, increasePerBucket, lastPerBucket } from "./timeline.ts";

const T0 = 1_700_000_000_000;
const request = (target: string, atS: number, latencyMs: number, books = true, fresh = books): RequestRecord => ({
  target,
  startedAt: T0 + atS * 1000,
  latencyMs,
  outcome: books ? "200" : "503",
  books,
  fresh,
});

describe("increasePerBucket", () => {
  test("readings at the start of each second give each second what happened in it", () => {
    const readings = [0, 1, 2, 3].map((s, i) => ({ at: T0 + s * 1000 + 3, value: [10, 15, 15, 40][i] ?? 0 }));
    expect(increasePerBucket(readings, T0, 1000, 4)).toEqual([5, 0, 25, null]);
  });

  test("a counter that goes down is a restarted process: its whole value is new", () => {
    const readings = [
      { at: T0, value: 100 },
      { at: T0 + 1000, value: 120 },
      { at: T0 + 2000, value: 7 },
    ];
    expect(increasePerBucket(readings, T0, 1000, 3)).toEqual([20, 7, null]);
  });

  test("the seconds between two readings count 0 but for the increase; those before the first or after the last are null", () => {
    const readings = [
      { at: T0 + 1000, value: 1 },
      { at: T0 + 1100, value: 2 },
      { at: T0 + 4000, value: 2 },
    ];
    expect(increasePerBucket(readings, T0, 1000, 6)).toEqual([null, 1, 0, 0, null, null]);
  });
});

test("lastPerBucket: a gauge's last reading in each second", () => {
  const readings = [
    { at: T0 + 100, value: 0 },
    { at: T0 + 900, value: 1 },
    { at: T0 + 2500, value: 2 },
  ];
  expect(lastPerBucket(readings, T0, 1000, 4)).toEqual([1, null, 2, null]);
});

describe("buildTimeline", () => {
  const records = [
    request("combined", 0.1, 2),
    request("combined", 0.5, 4),
    request("combined", 0.9, 1000, true, false),
    request("none", 0.2, 3),
    request("none", 1.2, 20, false),
    request("combined", 2.5, 1), // in the last second, cut short: left out
  ];
  const timeline = buildTimeline({
    records,
    groups: [
      {
        name: "combined",
        pick: (r) => r.target === "combined",
        booksvc: [
          {
            name: "booksvc-combined",
            breaker: true,
            samples: [
              { at: T0, upstreamCalls: 3, breakerState: 0 },
              { at: T0 + 1000, upstreamCalls: 5, breakerState: 1 },
            ],
          },
        ],
      },
      { name: "none", pick: (r) => r.target === "none", booksvc: [{ name: "booksvc-none", breaker: false, samples: [] }] },
    ],
    startedAt: T0,
    endedAt: T0 + 2600,
    windows: [{ name: "database-down", label: "database down", fromMs: 1000, toMs: 2000 }],
  });

  test("counts each group's requests by the second they started in, and shares and percentiles of those", () => {
    expect(timeline.seconds).toBe(2);
    const [combined, none] = timeline.groups;
    expect(combined).toMatchObject({ requests: [3, 0], booksPct: [100, null], freshPct: [66.7, null], p50Ms: [4, null], p99Ms: [1000, null] });
    expect(none).toMatchObject({ requests: [1, 1], booksPct: [100, 0], freshPct: [100, 0], p50Ms: [3, 20], p99Ms: [3, 20] });
  });

  test("adds the upstream calls of its booksvc and the breaker of those that have one", () => {
    const [combined, none] = timeline.groups;
    expect(combined?.upstreamCalls).toEqual([2, null]);
    expect(combined?.breakers).toEqual([{ booksvc: "booksvc-combined", state: [0, 1] }]);
    expect(none?.upstreamCalls).toEqual([null, null]);
    expect(none?.breakers).toEqual([]);
  });

  test("keeps the windows as given", () => {
    expect(timeline.windows).toEqual([{ name: "database-down", label: "database down", fromMs: 1000, toMs: 2000 }]);
  });
});

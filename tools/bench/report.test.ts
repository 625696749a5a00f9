import { describe, expect, test } from "bun:test";
import { fakeLoadResult } from "./fake-load-result.ts";
import { summarizeRounds } from "./load-summary.ts";
import { checkTargets, type ThroughputRow, throughputTable } from "./report.ts";

function row(
  name: string,
  rps: number,
  more: Partial<Pick<ThroughputRow, "ratioToCeiling" | "ratioToStoragesvc" | "upstreamCallsPerRequest" | "concurrency">> = {},
  latencyMs = 1,
): ThroughputRow {
  const summary = summarizeRounds(name, [{ ...fakeLoadResult(rps * 2, 0.1, Array(10).fill(latencyMs)), seconds: 2 }]);
  return {
    ...summary,
    openLoop: summary,
    ratioToCeiling: more.ratioToCeiling,
    ratioToStoragesvc: more.ratioToStoragesvc,
    rssIdleMiB: undefined,
    rssAfterLoadMiB: undefined,
    concurrency: more.concurrency ?? 32,
    upstreamCallsPerRequest: more.upstreamCallsPerRequest,
  };
}

describe("checkTargets", () => {
  test("passes and fails each target at its threshold", () => {
    const rows = [
      row("booksvc-none", 1000, { ratioToStoragesvc: 1.6 }),
      row("booksvc-combined", 949, { ratioToStoragesvc: 1.5, upstreamCallsPerRequest: 0.26 }),
      row("booksvc-combined-nocollapse", 300, { ratioToStoragesvc: 0.39 }),
      row("booksvc-combined-nocollapse@16", 300, { ratioToStoragesvc: 0.44, concurrency: 16 }),
      row("booksvc-combined@1", 300, { concurrency: 1 }, 1.1),
      row("booksvc-combined-nocollapse@1", 300, { concurrency: 1 }, 1),
      row("booksvc-cache", 500, { ratioToCeiling: 0.5 }),
    ];
    const checks = checkTargets(rows, [{ binary: "dist/booksvc", starts: 7, healthzMs: 60, firstAnswerMs: 70, rssAtStartMiB: 50, allHealthzMs: [] }]);
    const verdict = Object.fromEntries(checks.map((c) => [c.what, c.ok]));
    expect(verdict).toEqual({
      "booksvc combined, collapsing on, 32 clients >= 1.5 x storagesvc direct": true,
      "booksvc combined, collapsing on, 32 clients: <= 0.25 upstream calls per request": false,
      "booksvc combined, collapsing off, 16 clients ~ 0.5 x storagesvc direct (>= 0.45)": false,
      "1 client: open-loop p50 with collapsing no worse than without (+10 %)": true,
      "combined costs <= 5 % vs none": false, // 5.1 %
      "booksvc from cache >= 0.5 x ceiling": true,
      "dist/booksvc start to first 200 < 60 ms (median)": false,
    });
  });

  test("a target that answered with errors fails", () => {
    const failing = { ...row("storagesvc", 100), errors: 3 };
    expect(checkTargets([failing], []).filter((c) => !c.ok).map((c) => c.what)).toEqual(["storagesvc answers without errors"]);
  });
});

test("the table shows the CPU per request next to the ratios", () => {
  const text = throughputTable([row("storagesvc", 1000)]);
  expect(text.split("\n")[0]).toContain("server CPU µs/req");
  expect(text.split("\n")[2]).toContain("50.0"); // 0.1 s over 2000 requests
});

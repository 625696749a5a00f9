import { expect, test } from "bun:test";
import { haScenarioJson, renderHaScenario } from "./report.ts";
import type { HaScenarioResult } from "./scenario.ts";

const result: HaScenarioResult = {
  name: "pg-failover",
  title: "PostgreSQL failover",
  rows: [
    { label: "booksvc", requests: 1200, booksShare: 1, errorShare: 0, p99Ms: 12.4, maxMs: 40.2, timeToFreshMs: 310 },
    { label: "storagesvc, no primary", requests: 40, booksShare: 0, errorShare: 1, p99Ms: 1003, maxMs: 1004.6, wrongAnswers: 0 },
  ],
  checks: [
    { name: "storagesvc 200 within 2 s", holds: true, measured: "120 ms" },
    { name: "booksvc 100 % books", holds: false, measured: "99.50 % of 1200" },
  ],
  events: [{ atMs: 1500, text: "primary killed" }],
  records: [{ target: "booksvc", startedAt: 1, latencyMs: 1, outcome: "200", books: true, fresh: true }],
};

test("renders the table, each target with ok or FAIL, and the events", () => {
  const text = renderHaScenario(result);
  expect(text).toContain("PostgreSQL failover (pg-failover)\n");
  expect(text).toMatch(/booksvc\s+1200\s+100 %\s+0 %\s+12\s+40\s+310\s+–/);
  expect(text).toMatch(/storagesvc, no primary\s+40\s+0 %\s+100 %\s+1003\s+1005\s+–\s+0/);
  expect(text).toContain("ok   storagesvc 200 within 2 s: 120 ms");
  expect(text).toContain("FAIL booksvc 100 % books: 99.50 % of 1200");
  expect(text).toContain("1.5 s  primary killed");
});

test("JSON leaves the per-request records out", () => {
  const json = haScenarioJson(result);
  expect(json).not.toHaveProperty("records");
  expect(json.rows).toHaveLength(2);
});

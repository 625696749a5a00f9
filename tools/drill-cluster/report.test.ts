import { describe, expect, test } from "bun:test";
import type { RequestRecord } from "../drill/load-worker.ts";
import type { StatRow } from "./haproxy-stats.ts";
import {
  ALL_CLIENTS,
  checkTargets,
  type ClusterScenarioResult,
  counterDelta,
  FRONT_TARGET,
  firstAnswer,
  NO_REPLICA,
  renderScenario,
  scenarioJson,
  scenarioRows,
} from "./report.ts";

const books = (startedAt: number, header: string, latencyMs = 2, target = FRONT_TARGET): RequestRecord => ({
  target,
  startedAt,
  latencyMs,
  outcome: "200",
  books: true,
  fresh: false,
  header,
});
const failure = (startedAt: number, outcome: string, header: string): RequestRecord => ({
  target: FRONT_TARGET,
  startedAt,
  latencyMs: 1,
  outcome,
  books: false,
  fresh: false,
  header,
});

describe("scenarioRows", () => {
  test("all clients first, then each replica that answered in name order, HAProxy itself, then direct clients", () => {
    const records = [
      books(1_000, "booksvc-2"),
      books(1_010, "booksvc-10"),
      books(1_020, "booksvc-1"),
      failure(1_030, "503", "<NOSRV>"),
      failure(1_040, "error", ""),
      { ...books(1_050, "", 3, "booksvc-4 direct") },
    ];
    const rows = scenarioRows(records, 1_000, 2_000);
    expect(rows.map((r) => [r.strategy, r.requests])).toEqual([
      [ALL_CLIENTS, 5],
      ["booksvc-1", 1],
      ["booksvc-2", 1],
      ["booksvc-10", 1],
      [NO_REPLICA, 2],
      ["booksvc-4 direct", 1],
    ]);
    expect(rows[0]?.booksPct).toBe(60);
    expect(rows[0]?.errorsPct).toEqual({ "503": 20, error: 20 });
  });

  test("counts a request in flight at some moment of the scenario, not one before or after it", () => {
    const records = [books(900, "booksvc-1", 50), books(990, "booksvc-1", 20), books(2_000, "booksvc-1")];
    expect(scenarioRows(records, 1_000, 2_000)[0]?.requests).toBe(1);
  });

  test("fresh after is per replica: the first fresh answer it gave after the scenario", () => {
    const records = [books(1_500, "booksvc-1"), { ...books(2_100, "booksvc-1", 5), fresh: true }, { ...books(2_300, "booksvc-2", 5), fresh: true }];
    const rows = scenarioRows([...records, books(1_600, "booksvc-2")], 1_000, 2_000);
    expect(rows.find((r) => r.strategy === "booksvc-1")?.freshAfterMs).toBe(105);
    expect(rows.find((r) => r.strategy === "booksvc-2")?.freshAfterMs).toBe(305);
  });
});

test("firstAnswer is the earliest-started request picked, whatever the order of the records", () => {
  const records = [books(2_000, "booksvc-4", 3), failure(1_500, "503", "booksvc-4"), books(1_000, "booksvc-1")];
  expect(firstAnswer(records, (r) => r.header === "booksvc-4")).toEqual({ outcome: "503", books: false, fresh: false, latencyMs: 1 });
  expect(firstAnswer(records, (r) => r.header === "booksvc-9")).toBeNull();
});

test("counterDelta subtracts each tier's backend counters and names the replicas requests were taken from", () => {
  const stat = (proxy: string, name: string, n: number): StatRow => ({
    proxy,
    name,
    status: "UP",
    checkStatus: "",
    retries: n,
    redispatches: 2 * n,
    connectionErrors: 3 * n,
    responseErrors: 4 * n,
    answers5xx: 5 * n,
  });
  const before = [stat("books", "BACKEND", 1), stat("books", "booksvc-1", 100), stat("storage", "BACKEND", 0)];
  const after = [stat("books", "BACKEND", 3), stat("books", "booksvc-1", 200), stat("storage", "BACKEND", 1)];
  expect(counterDelta(before, after)).toEqual({
    books: { retries: 2, redispatches: 4, connectionErrors: 6, responseErrors: 8, answers5xx: 10, redispatchedFrom: { "booksvc-1": 200 } },
    storage: { retries: 1, redispatches: 2, connectionErrors: 3, responseErrors: 4, answers5xx: 5, redispatchedFrom: {} },
  });
});

describe("checkTargets", () => {
  test("a rolling restart holds with no client error and p99 under 50 ms", () => {
    const rows = scenarioRows([books(1_000, "booksvc-1", 3), books(1_001, "booksvc-2", 4)], 1_000, 2_000);
    expect(checkTargets("rolling-restart-booksvc", rows)).toEqual([
      { target: "0 client errors", holds: true },
      { target: "p99 < 50 ms", holds: true },
    ]);
  });

  test("one error among the clients misses it, even when HAProxy answered it itself", () => {
    const rows = scenarioRows([books(1_000, "booksvc-1"), failure(1_001, "503", "<NOSRV>")], 1_000, 2_000);
    expect(checkTargets("kill-storagesvc", rows)).toEqual([{ target: "0 client errors", holds: false }]);
  });

  test("the database outage needs books from every replica, p99 under 25 ms and books from the new replica's first answers", () => {
    const rows = scenarioRows([books(1_000, "booksvc-1"), books(1_001, "booksvc-4"), books(1_002, "", 2, "booksvc-4 direct")], 1_000, 2_000);
    const answer = { outcome: "200", books: true, fresh: false, latencyMs: 2 };
    const newReplica = { name: "booksvc-4", startedAfterMs: 10_000, readyMs: 50, upInHaproxyMs: 1_100, firstDirect: answer, firstViaHaproxy: answer };
    expect(checkTargets("database-down", rows, newReplica).map((t) => t.holds)).toEqual([true, true, true]);
    const missed = checkTargets("database-down", rows, { ...newReplica, firstDirect: { ...answer, outcome: "503", books: false } });
    expect(missed.map((t) => t.holds)).toEqual([true, true, false]);
  });

  test("Redis and the database down: every replica must answer books", () => {
    const rows = scenarioRows([books(1_000, "booksvc-1"), failure(1_001, "503", "booksvc-2")], 1_000, 2_000);
    expect(checkTargets("redis-and-database-down", rows)).toEqual([{ target: "100 % books from every replica that had seen the books", holds: false }]);
  });
});

describe("renderScenario", () => {
  const result: ClusterScenarioResult = {
    name: "kill-booksvc",
    title: "one booksvc replica killed with SIGKILL, then started again",
    startedAt: 1_000,
    faultMs: 3_000,
    rows: scenarioRows([books(1_000, "booksvc-1"), books(1_001, "booksvc-2")], 1_000, 2_000),
    events: [{ atMs: 312, text: "booksvc-1: SIGKILL; out of HAProxy after 312 ms" }],
    haproxy: { books: { retries: 1, redispatches: 15, connectionErrors: 0, responseErrors: 1, answers5xx: 0, redispatchedFrom: { "booksvc-1": 15 } } },
    recovered: true,
    targets: [{ target: "0 client errors", holds: true }],
  };

  test("the table per replica, HAProxy's counters, what happened and the targets", () => {
    const lines = renderScenario(result).split("\n");
    expect(lines[0]).toBe(result.title);
    expect(lines[1]).toMatch(/^answered by\s+requests\s+books\s+timeouts\s+p50\s+p99\s+max\s+fresh after$/);
    expect(lines[3]).toMatch(/^all clients\s+2\s+100 %/);
    expect(lines).toContain(
      "HAProxy books tier: 15 redispatched to another replica, 1 retried, 0 connection errors, 1 response errors, 0 5xx from replicas (taken away from booksvc-1 15)",
    );
    expect(lines).toContain("   312 ms  booksvc-1: SIGKILL; out of HAProxy after 312 ms");
    expect(lines.at(-1)).toBe("target holds: 0 client errors");
  });

  test("JSON rows say who answered", () => {
    const json = scenarioJson(result) as { rows: Array<Record<string, unknown>> };
    expect(json.rows[0]).toMatchObject({ answeredBy: ALL_CLIENTS, requests: 2 });
    expect(json.rows[0]).not.toHaveProperty("strategy");
  });
});

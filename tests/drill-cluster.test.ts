import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skipWithoutHaproxy } from "../tools/drill-cluster/haproxy.ts";
import { SCENARIO_NAMES } from "../tools/drill-cluster/options.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { runScript, type ScriptRun } from "../tools/kit/run-script.ts";
import { inspectCharts, openReport } from "../tools/report/browser.ts";

// `bun run drill:cluster --quick --json` end to end: real HAProxy, replicas from dist/ (built here
// when missing or stale), a redis-server of its own, and a fresh database on the shared PostgreSQL.
// Under CI a missing haproxy is a failure (the drill's message says what to install), not a skip.
setDefaultTimeout(300_000);

interface Row {
  answeredBy: string;
  requests: number;
  booksPct: number;
  errorsPct: Record<string, number>;
  timeoutsPct: number;
}
interface Scenario {
  name: string;
  title: string;
  rows: Row[];
  recovered: boolean;
  newReplica?: { name: string; firstViaHaproxy: { books: boolean } | null; firstDirect: { books: boolean } | null };
  targets: Array<{ target: string; holds: boolean }>;
}

describe.skipIf(skipWithoutHaproxy())("bun run drill:cluster --quick", () => {
  let database: FreshDatabase | undefined;
  let run: ScriptRun;
  let scenarios: Scenario[] = [];
  let workDir = "";
  const scenario = (name: string): Scenario => {
    const found = scenarios.find((s) => s.name === name);
    if (!found) throw new Error(`scenario ${name} is missing from the drill's output`);
    return found;
  };
  const allClients = (name: string) => scenario(name).rows.find((r) => r.answeredBy === "all clients");

  beforeAll(async () => {
    database = await createFreshDatabase("bookstore_drill_cluster");
    workDir = await mkdtemp(join(tmpdir(), "bookstore-drill-cluster-report-"));
    run = await runScript("tools/drill-cluster.ts", ["--quick", "--json", "--report", join(workDir, "cluster.html")], { DATABASE_URL: database.url });
    if (run.code === 0) scenarios = (JSON.parse(run.stdout) as { scenarios: Scenario[] }).scenarios;
    if (process.env.DRILL_CLUSTER_TEST_OUTPUT) await Bun.write(process.env.DRILL_CLUSTER_TEST_OUTPUT, `${run.stderr}\n${run.stdout}`);
  }, 300_000);

  afterAll(async () => {
    await database?.drop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test("runs every scenario and prints a table for each", () => {
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(scenarios.map((s) => s.name)).toEqual([...SCENARIO_NAMES]);
    for (const s of scenarios) {
      expect(run.stderr).toContain(`${s.title}\nanswered by `);
      expect(allClients(s.name)?.requests).toBeGreaterThan(0);
      // Every booksvc replica answered during every scenario; in a short run the one killed at the
      // start of kill-booksvc may be back UP only after the last request, so there, its two peers.
      const answering = s.rows.filter((r) => /^booksvc-\d+$/.test(r.answeredBy)).length;
      expect(answering).toBeGreaterThanOrEqual(s.name === "kill-booksvc" ? 2 : 3);
    }
  });

  test("every scenario ends with every replica UP and serving fresh books again", () => {
    expect(scenarios.map((s) => [s.name, s.recovered])).toEqual(SCENARIO_NAMES.map((name) => [name, true]));
  });

  test("rolling restarts of both tiers: no client sees an error", () => {
    for (const name of ["rolling-restart-booksvc", "rolling-restart-storagesvc"]) {
      expect({ name, ...allClients(name) }).toMatchObject({ name, booksPct: 100, errorsPct: {}, timeoutsPct: 0 });
    }
  });

  test("a replica of either tier killed with SIGKILL: no client sees an error", () => {
    for (const name of ["kill-booksvc", "kill-storagesvc"]) {
      expect({ name, ...allClients(name) }).toMatchObject({ name, booksPct: 100, errorsPct: {}, timeoutsPct: 0 });
    }
  });

  test("database down: clients through HAProxy get books, and the replica started during it joins and answers", () => {
    const outage = scenario("database-down");
    expect(allClients("database-down")?.booksPct).toBe(100);
    expect(outage.newReplica?.name).toBe("booksvc-4");
    expect(outage.rows.find((r) => r.answeredBy === "booksvc-4")?.requests).toBeGreaterThan(0);
    expect(outage.rows.find((r) => r.answeredBy === "booksvc-4 direct")?.requests).toBeGreaterThan(0);
    expect(outage.newReplica?.firstViaHaproxy?.books).toBe(true);
  });

  test("Redis and the database down together: every request is answered, none hangs", () => {
    expect(allClients("redis-and-database-down")?.timeoutsPct).toBe(0);
    expect(scenario("redis-and-database-down").targets).toHaveLength(1);
  });

  test("--report: a page with one timeline per scenario, every chart drawn and the scenario shaded, in headless Chromium", async () => {
    const opened = await openReport(join(workDir, "cluster.html"));
    try {
      const charts = await inspectCharts(opened.page);
      expect(opened.problems).toEqual([]);
      expect([...new Set(charts.map((c) => c.section))]).toEqual(scenarios.map((s) => s.title));
      for (const chart of charts) {
        const where = `${chart.section}: ${chart.title}`;
        // The spare replica's breaker has no reading before it starts.
        for (const s of chart.series.filter((s) => s.points > 0)) expect({ where, series: s.label, drawn: s.pixels > 20 }).toEqual({ where, series: s.label, drawn: true });
        expect({ where, series: chart.series.some((s) => s.points > 0) }).toEqual({ where, series: true });
        const name = scenarios.find((s) => s.title === chart.section)?.name ?? "";
        const own = chart.windows.find((w) => w.label === name.replaceAll("-", " "));
        expect({ where, shaded: (own?.shadedShare ?? 0) > 0.5 }).toEqual({ where, shaded: true });
      }
    } finally {
      await opened.close();
    }
  });
});

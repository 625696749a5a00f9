import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { runScript } from "../tools/kit/run-script.ts";

// `bun run drill:ha --quick --json` end to end: throwaway PostgreSQL clusters (a primary and a
// streaming standby from pg_basebackup -R), Debian's pgbouncer, storagesvc and booksvc from source.
// Every target the drill checks must hold; under CI a missing pgbouncer or PostgreSQL is a failure.
setDefaultTimeout(180_000);

interface Row {
  label: string;
  requests: number;
  booksShare: number;
  timeToFreshMs?: number;
  wrongAnswers?: number;
}
interface Scenario {
  name: string;
  rows: Row[];
  checks: Array<{ name: string; holds: boolean; measured: string }>;
}

describe("bun run drill:ha --quick", () => {
  test("every scenario (PostgreSQL failover, PgBouncer, Redis Sentinel and Cluster) runs, prints its table, and holds its targets", async () => {
    const run = await runScript("tools/drill-ha.ts", ["--quick", "--json"]);
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    const { scenarios } = JSON.parse(run.stdout) as { scenarios: Scenario[] };
    const names = scenarios.map((s) => s.name);
    expect(names).toEqual(["pg-failover", "pgbouncer", "redis-sentinel", "redis-cluster"]);
    for (const scenario of scenarios) {
      expect(run.stderr).toContain(`(${scenario.name})\n`);
      expect(scenario.checks.length).toBeGreaterThan(0);
      expect(scenario.checks.filter((c) => !c.holds)).toEqual([]);
    }

    const failover = scenarios.find((s) => s.name === "pg-failover");
    const promoted = failover?.rows.find((r) => r.label === "storagesvc, after promotion");
    expect(promoted?.timeToFreshMs).toBeLessThanOrEqual(2_000);
    expect(failover?.rows.find((r) => r.label.startsWith("booksvc"))?.booksShare).toBe(1);

    const bouncer = scenarios.find((s) => s.name === "pgbouncer");
    expect(bouncer?.rows[0]).toMatchObject({ requests: 2_000, wrongAnswers: 0, booksShare: 1 });
  });
});

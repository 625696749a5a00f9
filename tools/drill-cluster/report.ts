import type { RequestRecord } from "../drill/load-worker.ts";
import { type ScenarioRow, summarize } from "../drill/summary.ts";
import { renderTable, type ScenarioResult } from "../drill/table.ts";
import type { StatRow } from "./haproxy-stats.ts";
import type { ScenarioName } from "./options.ts";

/** The load worker's target name of the clients calling HAProxy; direct clients are named after their replica. */
export const FRONT_TARGET = "clients";
/** Row label of the requests HAProxy answered itself (no replica named in its header). */
export const NO_REPLICA = "haproxy itself";
export const ALL_CLIENTS = "all clients";

/** What one request to a replica got. */
export interface FirstAnswer {
  outcome: string;
  books: boolean;
  fresh: boolean;
  latencyMs: number;
}

/** The booksvc replica started in the middle of the database outage. */
export interface NewReplicaReport {
  name: string;
  /** From the start of the outage to the start of its process. */
  startedAfterMs: number;
  /** From its start to its own /readyz answering 200. */
  readyMs: number;
  /** From its start to HAProxy marking it UP. */
  upInHaproxyMs: number;
  /** Its first answer to a client calling it directly, and its first through HAProxy. */
  firstDirect: FirstAnswer | null;
  firstViaHaproxy: FirstAnswer | null;
}

/** HAProxy's counters over one scenario, for one tier's backend. */
export interface TierCounters {
  retries: number;
  redispatches: number;
  connectionErrors: number;
  responseErrors: number;
  answers5xx: number;
  /**
   * Per replica, requests HAProxy took away from it to another one (its `wredis`): a replica
   * answering 503 to everything is invisible to clients (`retry-on 503`) but shows here.
   */
  redispatchedFrom: Record<string, number>;
}

export interface TargetCheck {
  target: string;
  holds: boolean;
}

/** A scenario's rows are "who answered": all clients, each replica, HAProxy itself, direct clients. */
export interface ClusterScenarioResult extends ScenarioResult {
  name: ScenarioName;
  /** Epoch ms the scenario started at. */
  startedAt: number;
  /** What the drill did, in ms from the start of the scenario. */
  events: Array<{ atMs: number; text: string }>;
  haproxy: Record<string, TierCounters>;
  newReplica?: NewReplicaReport;
  /** Whether every replica was UP again and every booksvc served fresh books before the next scenario. */
  recovered: boolean;
  targets: TargetCheck[];
}

const byName = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * The rows of one scenario over [faultStart, faultEnd): every request through HAProxy, then those
 * answered by each replica (HAProxy's `X-Served-By`), those HAProxy answered itself, then each group
 * of clients calling a replica directly. A row counts the requests in flight during the fault.
 */
export function scenarioRows(records: readonly RequestRecord[], faultStart: number, faultEnd: number): ScenarioRow[] {
  const inFault = (r: RequestRecord) => r.startedAt < faultEnd && r.startedAt + r.latencyMs >= faultStart;
  const after = (r: RequestRecord) => r.startedAt >= faultEnd;
  const row = (label: string, pick: (r: RequestRecord) => boolean) =>
    summarize(label, records.filter((r) => pick(r) && inFault(r)), records.filter((r) => pick(r) && after(r)), faultEnd);

  const front = (r: RequestRecord) => r.target === FRONT_TARGET;
  const answeredBy = (r: RequestRecord) => (r.header === undefined || r.header === "" || r.header === "<NOSRV>" ? NO_REPLICA : r.header);
  const replicas = [...new Set(records.filter((r) => front(r) && inFault(r)).map(answeredBy))].sort((a, b) =>
    a === NO_REPLICA ? 1 : b === NO_REPLICA ? -1 : byName(a, b),
  );
  const direct = [...new Set(records.filter((r) => !front(r) && inFault(r)).map((r) => r.target))].sort(byName);
  return [
    row(ALL_CLIENTS, front),
    ...replicas.map((name) => row(name, (r) => front(r) && answeredBy(r) === name)),
    ...direct.map((target) => row(target, (r) => r.target === target)),
  ];
}

/** The earliest-started request of `records` that `pick` accepts. */
export function firstAnswer(records: readonly RequestRecord[], pick: (r: RequestRecord) => boolean): FirstAnswer | null {
  let first: RequestRecord | undefined;
  for (const r of records) if (pick(r) && (first === undefined || r.startedAt < first.startedAt)) first = r;
  return first === undefined ? null : { outcome: first.outcome, books: first.books, fresh: first.fresh, latencyMs: first.latencyMs };
}

/** Each tier's backend counters from `after` minus `before` (two `show stat` snapshots), and its replicas' redispatches. */
export function counterDelta(before: readonly StatRow[], after: readonly StatRow[]): Record<string, TierCounters> {
  const result: Record<string, TierCounters> = {};
  for (const end of after.filter((r) => r.name === "BACKEND")) {
    const start = before.find((r) => r.proxy === end.proxy && r.name === "BACKEND");
    const minus = (key: Exclude<keyof TierCounters, "redispatchedFrom">) => end[key] - (start?.[key] ?? 0);
    result[end.proxy] = {
      retries: minus("retries"),
      redispatches: minus("redispatches"),
      connectionErrors: minus("connectionErrors"),
      responseErrors: minus("responseErrors"),
      answers5xx: minus("answers5xx"),
      redispatchedFrom: {},
    };
  }
  for (const end of after.filter((r) => r.name !== "BACKEND" && r.name !== "FRONTEND")) {
    const start = before.find((r) => r.proxy === end.proxy && r.name === end.name);
    const away = end.redispatches - (start?.redispatches ?? 0);
    const tier = result[end.proxy];
    if (tier && away > 0) tier.redispatchedFrom[end.name] = away;
  }
  return result;
}

const noErrors = (row: ScenarioRow | undefined) => row !== undefined && row.requests > 0 && row.booksPct === 100;
const replicaRowsOf = (rows: readonly ScenarioRow[]) => rows.filter((r) => r.strategy.startsWith("booksvc-"));

/** The issue's targets for a scenario, checked against its rows. */
export function checkTargets(name: ScenarioName, rows: readonly ScenarioRow[], newReplica?: NewReplicaReport): TargetCheck[] {
  const all = rows.find((r) => r.strategy === ALL_CLIENTS);
  const everyReplica = replicaRowsOf(rows);
  switch (name) {
    case "rolling-restart-booksvc":
    case "rolling-restart-storagesvc":
      return [
        { target: "0 client errors", holds: noErrors(all) },
        { target: "p99 < 50 ms", holds: all !== undefined && all.p99Ms < 50 },
      ];
    case "kill-booksvc":
    case "kill-storagesvc":
      return [{ target: "0 client errors", holds: noErrors(all) }];
    case "database-down":
      return [
        { target: "100 % books from every replica", holds: noErrors(all) && everyReplica.length > 0 && everyReplica.every(noErrors) },
        { target: "p99 < 25 ms", holds: all !== undefined && all.p99Ms < 25 },
        {
          target: "the replica started during the outage answers books from its first request",
          holds: newReplica !== undefined && newReplica.firstDirect?.books === true && newReplica.firstViaHaproxy?.books === true,
        },
      ];
    case "redis-and-database-down":
      // Every replica had served fresh books before this scenario (the drill waits for it).
      return [{ target: "100 % books from every replica that had seen the books", holds: everyReplica.length > 0 && everyReplica.every(noErrors) }];
  }
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function describeAnswer(answer: FirstAnswer | null): string {
  if (answer === null) return "none";
  const what = answer.books ? `books ${answer.fresh ? "(fresh)" : "(from the cache)"}` : "no books";
  return `${answer.outcome} ${what} in ${answer.latencyMs.toFixed(1)} ms`;
}

/** A scenario as a human reads it: the table, HAProxy's retries, the new replica, what happened, the targets. */
export function renderScenario(result: ClusterScenarioResult): string {
  const lines = [renderTable(result, { rowLabel: "answered by" })];
  for (const [tier, c] of Object.entries(result.haproxy)) {
    lines.push(
      `HAProxy ${tier} tier: ${c.redispatches} redispatched to another replica, ${c.retries} retried, ` +
        `${c.connectionErrors} connection errors, ${c.responseErrors} response errors, ${c.answers5xx} 5xx from replicas` +
        (Object.keys(c.redispatchedFrom).length === 0
          ? ""
          : ` (taken away from ${Object.entries(c.redispatchedFrom)
              .sort(([a], [b]) => byName(a, b))
              .map(([name, n]) => `${name} ${n}`)
              .join(", ")})`),
    );
  }
  const n = result.newReplica;
  if (n) {
    lines.push(
      `new replica ${n.name}: started ${seconds(n.startedAfterMs)} into the outage, ready after ${seconds(n.readyMs)}, ` +
        `UP in HAProxy after ${seconds(n.upInHaproxyMs)}; first answer direct: ${describeAnswer(n.firstDirect)}; ` +
        `first through HAProxy: ${describeAnswer(n.firstViaHaproxy)}`,
    );
  }
  for (const event of result.events) lines.push(`  ${seconds(event.atMs).padStart(7)}  ${event.text}`);
  if (!result.recovered) lines.push("  not recovered within the wait: the next scenario started from a degraded cluster");
  for (const t of result.targets) lines.push(`target ${t.holds ? "holds" : "MISSED"}: ${t.target}`);
  return lines.join("\n");
}

/** The scenario for JSON: rows say who answered rather than a strategy. */
export function scenarioJson(result: ClusterScenarioResult): Record<string, unknown> {
  const { rows, ...rest } = result;
  return { ...rest, rows: rows.map(({ strategy, ...row }) => ({ answeredBy: strategy, ...row })) };
}

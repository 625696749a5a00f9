// The shape every `bun run drill:ha` scenario has, so scenarios for PostgreSQL and for Redis can
// be written apart and run by one runner (tools/drill-ha.ts) with one report.
import type { RequestRecord } from "../drill/load-worker.ts";

/** What the runner gives a scenario. */
export interface HaScenarioContext {
  /** `--quick`: shorter phases and fewer requests, for CI. */
  readonly quick: boolean;
  /** Where the scenario keeps its processes' logs (kept when the drill fails). */
  readonly logDir: string;
  /** Aborted when the drill is interrupted (Ctrl-C) or the scenario runs out of time. */
  readonly signal: AbortSignal;
  /** Notes what just happened, in ms from the start of the scenario (progress, report). */
  event(text: string): void;
}

/** One line of a scenario's table. */
export interface HaRow {
  label: string;
  requests: number;
  /** Share of requests answered 200 with a non-empty book list, 0 to 1. */
  booksShare: number;
  /** Share of requests answered with an error or not at all, 0 to 1. */
  errorShare: number;
  p99Ms: number;
  maxMs: number;
  /** From the repair to the first fresh answer; undefined when the scenario has none. */
  timeToFreshMs?: number;
  /** Answers that were wrong (e.g. `200 []` for a page that has rows); undefined when not counted. */
  wrongAnswers?: number;
}

/** A target of the issue, held or not, with what was measured. */
export interface HaCheck {
  name: string;
  holds: boolean;
  measured: string;
}

export interface HaScenarioResult {
  name: string;
  title: string;
  rows: HaRow[];
  checks: HaCheck[];
  /** What the drill did, in ms from the start of the scenario. */
  events: Array<{ atMs: number; text: string }>;
  /** Every request, for per-second timelines (the drill report). */
  records: RequestRecord[];
}

export interface HaScenario {
  /** Short name, as `--only` takes it: `pg-failover`, `pgbouncer`, `redis-sentinel`, `redis-cluster`. */
  name: string;
  /** Starts its own topology on free loopback ports, runs load and faults, stops everything it started. */
  run(ctx: HaScenarioContext): Promise<HaScenarioResult>;
}

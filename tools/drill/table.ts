import { formatTable } from "../kit/table.ts";
import type { ScenarioRow } from "./summary.ts";

export interface ScenarioResult {
  /** Machine name: `database-down`, `storagesvc-down`, `database-slow`. */
  name: string;
  /** What a human reads as the title. */
  title: string;
  faultMs: number;
  rows: ScenarioRow[];
}

function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function percent(value: number): string {
  if (value === 0) return "0";
  if (value === 100) return "100 %";
  return `${value < 0.1 ? "<0.1" : value.toFixed(1)} %`;
}

/**
 * One plain-text table per scenario; error columns only for outcomes that occurred. `rowLabel`
 * heads the first column: what a row is (a strategy here, a replica in the cluster drill).
 */
export function renderTable(result: ScenarioResult, { rowLabel = "strategy" }: { rowLabel?: string } = {}): string {
  const outcomes = [...new Set(result.rows.flatMap((r) => Object.keys(r.errorsPct)))].sort();
  const firstSecond = result.rows.some((r) => r.upstreamCallsFirstSecond !== undefined);
  const header = [
    rowLabel,
    "requests",
    "books",
    ...outcomes.map((o) => (o === "error" ? "net err" : o)),
    "timeouts",
    "p50",
    "p99",
    "max",
    "fresh after",
    ...(firstSecond ? ["1st s: requests / upstream calls"] : []),
  ];
  const lines = result.rows.map((r) => [
    r.strategy,
    String(r.requests),
    percent(r.booksPct),
    ...outcomes.map((o) => percent(r.errorsPct[o] ?? 0)),
    percent(r.timeoutsPct),
    ms(r.p50Ms),
    ms(r.p99Ms),
    ms(r.maxMs),
    r.freshAfterMs === null ? "not yet" : ms(r.freshAfterMs),
    ...(firstSecond ? [`${r.requestsFirstSecond ?? 0} / ${r.upstreamCallsFirstSecond ?? 0}`] : []),
  ]);
  return `${result.title}\n${formatTable(header, lines, { style: "plain" })}`;
}

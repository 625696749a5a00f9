import type { RequestRecord } from "../drill/load-worker.ts";
import { percentileOfSorted } from "../kit/stats.ts";
import type { HaRow } from "./scenario.ts";

export interface HaRowOptions {
  /** The repair (a promotion, a failover), epoch ms: time to fresh is counted from it. */
  repairAt?: number;
  /** What counts as a fresh answer; default: `Cache-Status: …fwd=miss` (booksvc's). */
  isFresh?: (record: RequestRecord) => boolean;
  /** Wrong answers among `records`, when the scenario checks each answer. */
  wrongAnswers?: number;
}

/**
 * One line of a scenario's table from the requests it covers. Errors are the requests that got
 * neither books nor a deliberate empty answer: any non-200 outcome, timeouts and network errors.
 * Time to fresh: from `repairAt` to the end of the first fresh answer to a request started at or
 * after it.
 */
export function haRow(label: string, records: readonly RequestRecord[], options: HaRowOptions = {}): HaRow {
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const share = (count: number) => (records.length === 0 ? 0 : count / records.length);
  const row: HaRow = {
    label,
    requests: records.length,
    booksShare: share(records.filter((r) => r.books).length),
    errorShare: share(records.filter((r) => r.outcome !== "200").length),
    p99Ms: percentileOfSorted(latencies, 0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
  if (options.repairAt !== undefined) {
    const { repairAt } = options;
    const isFresh = options.isFresh ?? ((r: RequestRecord) => r.fresh);
    const freshDone = records.filter((r) => r.startedAt >= repairAt && isFresh(r)).map((r) => r.startedAt + r.latencyMs);
    if (freshDone.length > 0) row.timeToFreshMs = Math.max(0, Math.min(...freshDone) - repairAt);
  }
  if (options.wrongAnswers !== undefined) row.wrongAnswers = options.wrongAnswers;
  return row;
}

/** The records of `target` started in [from, to) (epoch ms). */
export function between(records: readonly RequestRecord[], target: string, from: number, to = Number.POSITIVE_INFINITY): RequestRecord[] {
  return records.filter((r) => r.target === target && r.startedAt >= from && r.startedAt < to);
}

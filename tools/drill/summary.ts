import { LatencyHistogram } from "../kit/latency-histogram.ts";
import type { RequestRecord } from "./load-worker.ts";

/** What one strategy did during one fault. */
export interface ScenarioRow {
  strategy: string;
  /** Requests in flight at some moment of the fault. */
  requests: number;
  /** Share (0–100) answered 200 with a list of books. */
  booksPct: number;
  /** Share (0–100) per error outcome: HTTP status (`502`, `503`, `504`, …) or `error` (network). */
  errorsPct: Record<string, number>;
  /** Share (0–100) the client gave up on (client timeout). */
  timeoutsPct: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Time from the end of the fault until a fresh answer (`Cache-Status: …fwd=miss`) to a request
   * started after it; null when none came within the recovery window.
   */
  freshAfterMs: number | null;
  /**
   * The single-process drill: requests started in the first second of fresh answers after the
   * fault (from the first one: at once for `none` and `retry`, after the breaker's probe for the
   * others), and booksvc's upstream calls in that second.
   */
  requestsFirstSecond?: number;
  upstreamCallsFirstSecond?: number;
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole);

/**
 * Summarises one strategy's requests for a fault that lasted [faultStart, faultEnd) (epoch ms).
 * `during` are the requests in flight at some moment of the fault; `after` those started at or
 * after its end.
 */
export function summarize(
  strategy: string,
  during: readonly RequestRecord[],
  after: readonly RequestRecord[],
  faultEnd: number,
): ScenarioRow {
  const latencies = new LatencyHistogram();
  let maxMs = 0;
  for (const r of during) {
    latencies.record(r.latencyMs);
    maxMs = Math.max(maxMs, r.latencyMs);
  }
  const errors: Record<string, number> = {};
  let books = 0;
  let timeouts = 0;
  for (const r of during) {
    if (r.books) books++;
    else if (r.outcome === "timeout") timeouts++;
    else errors[r.outcome] = (errors[r.outcome] ?? 0) + 1;
  }
  const errorsPct: Record<string, number> = {};
  for (const [outcome, count] of Object.entries(errors)) errorsPct[outcome] = pct(count, during.length);
  let freshAt: number | null = null;
  for (const r of after) {
    if (!r.fresh) continue;
    const doneAt = r.startedAt + r.latencyMs;
    if (freshAt === null || doneAt < freshAt) freshAt = doneAt;
  }
  return {
    strategy,
    requests: during.length,
    booksPct: pct(books, during.length),
    errorsPct,
    timeoutsPct: pct(timeouts, during.length),
    p50Ms: latencies.percentile(0.5),
    p99Ms: latencies.percentile(0.99),
    maxMs,
    freshAfterMs: freshAt === null ? null : Math.max(0, freshAt - faultEnd),
  };
}

/** booksvc's `booksvc_upstream_calls_total` read at `at` (epoch ms). */
export interface CallSample {
  at: number;
  calls: number;
}

/**
 * Upstream calls made in [from, to), from counter samples in time order: the count read by the
 * last sample at or before each end (the first sample when none is). Sampled every ~100 ms, so a
 * count is good to that much.
 */
export function callsBetween(samples: readonly CallSample[], from: number, to: number): number {
  const readAt = (t: number): number => {
    let calls = samples[0]?.calls ?? 0;
    for (const sample of samples) {
      if (sample.at > t) break;
      calls = sample.calls;
    }
    return calls;
  };
  return readAt(to) - readAt(from);
}

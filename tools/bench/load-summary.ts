/** One target's load rounds summed up: what both the bench's and bench:scale's tables are built from. */
import { LatencyHistogram } from "../kit/latency-histogram.ts";
import type { LoadResult } from "./load.ts";

export interface LoadSummary {
  name: string;
  rps: number;
  /** req/s of each round, in round order. */
  roundsRps: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  errors: number;
  unexpected: number;
  /** CPU the load generator used, in cores, averaged over rounds. */
  clientCores: number;
  /**
   * The target process's CPU time per answered request, in µs, over all rounds: steadier than
   * req/s on a shared machine, and what a change to the service itself moves.
   */
  serverCpuUsPerRequest: number | undefined;
}

/** Sums the rounds of one target; latencies merge as histograms, since percentiles of percentiles would be wrong. */
export function summarizeRounds(name: string, results: readonly LoadResult[]): LoadSummary {
  const histogram = new LatencyHistogram();
  let requests = 0;
  let seconds = 0;
  let errors = 0;
  let unexpected = 0;
  let cores = 0;
  for (const result of results) {
    histogram.merge(LatencyHistogram.fromJSON(result.histogram));
    requests += result.requests;
    seconds += result.seconds;
    errors += result.errors;
    unexpected += result.unexpected;
    cores += result.clientCores;
  }
  return {
    name,
    rps: seconds > 0 ? requests / seconds : 0,
    roundsRps: results.map((r) => Math.round(r.requests / r.seconds)),
    p50Ms: histogram.percentile(0.5),
    p99Ms: histogram.percentile(0.99),
    maxMs: histogram.maxMs,
    requests,
    errors,
    unexpected,
    clientCores: results.length > 0 ? cores / results.length : 0,
    serverCpuUsPerRequest: cpuUsPerRequest(results, requests),
  };
}

/** The server's CPU time per request over all rounds; undefined when any round could not read it. */
function cpuUsPerRequest(results: readonly LoadResult[], requests: number): number | undefined {
  let seconds = 0;
  for (const { serverCpuSeconds } of results) {
    if (serverCpuSeconds === undefined) return undefined;
    seconds += serverCpuSeconds;
  }
  return requests > 0 ? (seconds * 1e6) / requests : undefined;
}

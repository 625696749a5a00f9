import { LatencyHistogram } from "../kit/latency-histogram.ts";
import type { LoadResult } from "./load.ts";

/** A 2-second round of the load generator, for the bench's report tests: `requests` answered, each latency recorded once. */
export function fakeLoadResult(requests: number, serverCpuSeconds: number | undefined, latenciesMs: readonly number[] = [1]): LoadResult {
  const histogram = new LatencyHistogram();
  for (const ms of latenciesMs) histogram.record(ms);
  return {
    requests,
    seconds: 2,
    errors: 0,
    timeouts: 0,
    unexpected: 0,
    statuses: { "200": requests },
    histogram: histogram.toJSON(),
    clientCores: 0.5,
    ...(serverCpuSeconds === undefined ? {} : { serverCpuSeconds }),
  };
}

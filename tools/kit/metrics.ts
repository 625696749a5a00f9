import { waitUntil } from "./wait.ts";

/**
 * booksvc's upstream calls and answers (all sources summed) so far, and its breaker state now
 * (0 closed, 1 open, 2 half-open), read from its /metrics.
 */
export async function booksvcCounters(url: string, timeoutMs = 5_000): Promise<{ calls: number; answers: number; breakerState: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  let calls = 0;
  let answers = 0;
  let breakerState = 0;
  for (const line of text.split("\n")) {
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("booksvc_upstream_calls_total ")) calls = value;
    else if (line.startsWith("booksvc_answers_total{")) answers += value;
    else if (line.startsWith("booksvc_breaker_state ")) breakerState = value;
  }
  return { calls, answers, breakerState };
}

/** The value of an unlabelled counter or gauge `name` in `url`'s /metrics; 0 when absent. */
export async function readMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** Waits until metric `name` of `url` reaches `value` (an event such as "every request has joined the call"). */
export async function untilMetric(url: string, name: string, value: number, timeoutMs = 15_000): Promise<void> {
  await waitUntil(
    `${name} to reach ${value}`,
    async () => {
      const now = await readMetric(url, name);
      return now >= value || `at ${now}`;
    },
    { timeoutMs, intervalMs: 10 },
  );
}

/** The sum over every label set of counter `name` in Prometheus text `text` (e.g. `booksvc_cache_errors_total`). */
export function sumCounter(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

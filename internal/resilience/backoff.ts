/** The article's exponential backoff (cenkalti/backoff defaults). */
export interface BackoffOptions {
  /** First interval, ms (article: 500). */
  initialIntervalMs: number;
  /** Growth per retry (article: 1.5). */
  multiplier: number;
  /** Jitter: the delay is drawn from [1-f, 1+f] × interval (article: 0.5). */
  randomizationFactor: number;
  /** Cap on the un-jittered interval, ms (article: 60000). */
  maxIntervalMs: number;
}

export const articleBackoffOptions: BackoffOptions = {
  initialIntervalMs: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxIntervalMs: 60_000,
};

/** Un-jittered interval before retry `n` (n = 0 for the first retry): min(initial·multiplier^n, max). */
export function backoffInterval(n: number, o: BackoffOptions): number {
  return Math.min(o.initialIntervalMs * o.multiplier ** n, o.maxIntervalMs);
}

/**
 * Jittered delay before retry `n`, uniform in [(1-f)·interval, (1+f)·interval] like
 * cenkalti/backoff (so the jittered delay may exceed maxIntervalMs, as there).
 */
export function backoffDelay(n: number, o: BackoffOptions, random: () => number = Math.random): number {
  const interval = backoffInterval(n, o);
  const delta = o.randomizationFactor * interval;
  return interval - delta + random() * 2 * delta;
}

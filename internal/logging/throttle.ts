export interface ThrottleOptions {
  /** Least time between two reports. Default one minute. */
  intervalMs?: number;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * Wraps `report` so that it runs for the first event, then at most once per `intervalMs`, with
 * `count`: how many events were seen since the previous report, this one included. Events in
 * between are only counted. For a log line that a bad state would otherwise repeat per request.
 */
export function throttle<E>(report: (event: E, count: number) => void, options: ThrottleOptions = {}): (event: E) => void {
  const { intervalMs = 60_000, now = Date.now } = options;
  let reportedAt = Number.NEGATIVE_INFINITY;
  let seen = 0;
  return (event) => {
    seen += 1;
    const at = now();
    if (at - reportedAt < intervalMs) return;
    reportedAt = at;
    const count = seen;
    seen = 0;
    report(event, count);
  };
}

/**
 * Open-loop sending: requests go out at a fixed rate whether or not earlier ones were answered,
 * as users arrive, and each is timed from the moment it was meant to leave. A closed loop (send,
 * wait for the answer, send again) stops sending while the server stalls, so a stall of S ms gives
 * one slow sample per client instead of about rate × S: what wrk2 calls coordinated omission.
 */

export interface FixedRateOptions {
  ratePerSecond: number;
  /** The first send time, on the `now` clock (ms). */
  startAt: number;
  /** No send at or after this time; Infinity runs until `signal` aborts. */
  stopAt: number;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Calls `send(intendedAt)` for each time startAt + i / rate before stopAt, rounded down to whole
 * milliseconds: timers wake no finer than that (a shorter Bun.sleep returns at once and would
 * spin a core), so above 1,000 req/s requests leave in a burst each millisecond, and each is timed
 * from its millisecond rather than charged the timer's granularity. When this loop runs late (a
 * busy machine, a GC pause), the sends it owes go out at once, each with its own intended time, so
 * the delay is charged to their latency rather than lost. Resolves with the count sent.
 */
export async function sendAtFixedRate(options: FixedRateOptions, send: (intendedAt: number) => void): Promise<number> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  const intervalMs = 1000 / options.ratePerSecond;
  // The small epsilon keeps 3 * (1000 / 3) from rounding down to the millisecond before 1000.
  const due = (i: number): number => options.startAt + Math.floor(i * intervalMs + 1e-9);
  let sent = 0;
  for (;;) {
    if (options.signal?.aborted) return sent;
    const at = now();
    let next = due(sent);
    while (next <= at && next < options.stopAt) {
      send(next);
      sent += 1;
      next = due(sent);
    }
    if (next >= options.stopAt) return sent;
    await sleep(Math.max(1, next - at));
  }
}

import type { MiddlewareHandler } from "hono";

export interface ShedOverloadOptions {
  /** MAX_IN_FLIGHT: most requests through this middleware at once; one more is refused. */
  maxInFlight: number;
  /** Called for each refused request (a metric). */
  onShed?: () => void;
}

/**
 * Load shedding: once `maxInFlight` requests are in flight, the next is answered `503` with
 * `Retry-After: 1` at once, before any work, so those admitted keep their latency instead of
 * every request queueing behind the others (latency = in flight / throughput). Mount it only on
 * the routes that do the work: probes and metrics must answer under overload too.
 */
export function shedOverload({ maxInFlight, onShed }: ShedOverloadOptions): MiddlewareHandler {
  let inFlight = 0;
  return async function shedOverload(c, next) {
    if (inFlight >= maxInFlight) {
      onShed?.();
      return c.json({ error: "overloaded, try again shortly" }, 503, { "Retry-After": "1" });
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}

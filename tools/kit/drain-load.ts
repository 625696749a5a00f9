import { expect } from "bun:test";
import type { ServiceProcess } from "./service-process.ts";
/**
 * Keep-alive load across a service's graceful stop, as a load balancer in front of it would
 * send it: `clients` loops of Bun `fetch` (keep-alive, HTTP/1.1) send requests back to back;
 * the caller's `stop()` sends the signal; a probe polls `/readyz` until it answers 503, and
 * `lbLagMs` later the "load balancer" sends nothing more to this replica (its reaction time,
 * which SHUTDOWN_DELAY_MS must cover). Every failed request is counted by its error code.
 */
export interface DrainLoadOptions {
  /** The URL the clients request, e.g. `http://127.0.0.1:8081/`. */
  url: string;
  /** The service's `/readyz`. */
  readyUrl: string;
  clients: number;
  /** From readiness 503 until the clients stop sending. */
  lbLagMs: number;
  /** Bound on each client, so a service that never stops cannot make the load run forever. */
  maxRequestsPerClient: number;
  /** Answers per client before `stop` is called, so every client holds a keep-alive connection. */
  warmupRequestsPerClient: number;
  /** Begins the stop (sends SIGTERM); resolves once sent. */
  stop(): void | Promise<void>;
}

export interface DrainLoadReport {
  answers: number;
  /** Requests that failed (reset, refused, closed...), by error code. */
  errors: Record<string, number>;
  /** From `stop()` to the first `/readyz` 503. */
  notReadyAfterMs: number;
  /** Answers to requests sent after `/readyz` answered 503, by status. */
  statusesWhileDraining: Record<string, number>;
  /** Of those, how many lacked `Connection: close`. */
  keptAliveWhileDraining: number;
}

/** How long the probe waits for `/readyz` to turn 503 before the report says it never did. */
const READY_PROBE_LIMIT_MS = 5_000;

/** Polls `readyUrl` back to back until it answers 503, fails (the service is gone) or `until` passes. */
async function untilNotReady(readyUrl: string, until: number): Promise<void> {
  while (performance.now() < until) {
    try {
      const response = await fetch(readyUrl);
      await response.arrayBuffer();
      if (response.status === 503) return;
    } catch {
      return; // no longer listening: the load balancer takes it out just the same
    }
  }
}

export async function drainLoad(o: DrainLoadOptions): Promise<DrainLoadReport> {
  const errors: Record<string, number> = {};
  const statusesWhileDraining: Record<string, number> = {};
  let answers = 0;
  let keptAliveWhileDraining = 0;
  let notReadyAt = Number.POSITIVE_INFINITY;
  let warmedUp = 0;
  let onWarm = (): void => {};
  const warm = new Promise<void>((resolve) => {
    onWarm = resolve;
  });

  async function client(): Promise<void> {
    for (let sent = 0; sent < o.maxRequestsPerClient; sent++) {
      const sentAt = performance.now();
      if (sentAt > notReadyAt + o.lbLagMs) return; // the load balancer has taken this replica out
      try {
        const response = await fetch(o.url);
        await response.arrayBuffer();
        answers++;
        if (sentAt > notReadyAt) {
          statusesWhileDraining[response.status] = (statusesWhileDraining[response.status] ?? 0) + 1;
          if (response.headers.get("connection")?.toLowerCase() !== "close") keptAliveWhileDraining++;
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        errors[code] = (errors[code] ?? 0) + 1;
        return;
      }
      if (sent + 1 === o.warmupRequestsPerClient && ++warmedUp === o.clients) onWarm();
    }
  }

  const clients = Array.from({ length: o.clients }, client);
  // A client that fails during the warm-up never warms up: do not wait for it forever.
  await Promise.race([warm, Promise.all(clients)]);

  const stopAt = performance.now();
  await o.stop();
  await untilNotReady(o.readyUrl, stopAt + READY_PROBE_LIMIT_MS);
  notReadyAt = performance.now();
  await Promise.all(clients);
  return {
    answers,
    errors,
    notReadyAfterMs: notReadyAt - stopAt,
    statusesWhileDraining,
    keptAliveWhileDraining,
  };
}

/**
 * The contract's drain, checked on a real service: 64 keep-alive clients and a load balancer that
 * stops sending 1 s after readiness turns 503; SIGTERM with SHUTDOWN_DELAY_MS `delayMs` (≥ 2 s).
 * Readiness 503 at once, only 200s with `Connection: close` through the delay, no client error,
 * exit 0 no sooner than the delay. Real time on purpose: a load balancer sees a real process.
 */
export async function expectCleanDrain(service: ServiceProcess, path: string, delayMs: number): Promise<void> {
  let signalledAt = 0;
  const report = await drainLoad({
    url: `${service.url}${path}`,
    readyUrl: `${service.url}/readyz`,
    clients: 64,
    lbLagMs: 1_000, // the load balancer's reaction time, well within SHUTDOWN_DELAY_MS
    warmupRequestsPerClient: 3,
    maxRequestsPerClient: 2_000,
    stop: () => {
      signalledAt = performance.now();
      service.child.signal("SIGTERM");
    },
  });
  const code = await service.exited;
  const exitedAfterMs = performance.now() - signalledAt;
  expect(report.errors).toEqual({});
  expect(report.notReadyAfterMs).toBeLessThan(1_000); // at once, give or take a busy machine
  expect(Object.keys(report.statusesWhileDraining)).toEqual(["200"]);
  expect(report.statusesWhileDraining["200"]).toBeGreaterThanOrEqual(64);
  expect(report.keptAliveWhileDraining).toBe(0);
  expect(code).toBe(0);
  expect(exitedAfterMs).toBeGreaterThanOrEqual(delayMs);
  const draining = await service.waitForLog((l) => l.msg === "draining: readiness 503, still answering");
  expect(draining.delay_ms).toBe(delayMs);
  await service.waitForLog((l) => l.msg === "stopped");
}

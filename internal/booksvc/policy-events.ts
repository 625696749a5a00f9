import type { IDisposable } from "cockatiel";
import type { Logger } from "../logging/logger.ts";
import type { BuiltStrategy } from "../resilience/index.ts";
import type { BooksvcMetrics } from "./metrics.ts";
import { isUpstreamError } from "./upstream.ts";

/** A short, loggable account of why an upstream call failed. */
function describeFailure(reason: unknown): Record<string, unknown> {
  const error = typeof reason === "object" && reason !== null && "error" in reason ? reason.error : reason;
  if (isUpstreamError(error)) return { kind: error.kind, status: error.status, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * Logs and counts what the policies do, through their events (the policies
 * themselves know nothing of logs or metrics): one log line per breaker state
 * change, a retry counter. Returns the subscriptions.
 */
export function observePolicies(
  { breaker, retry }: BuiltStrategy,
  { logger, metrics, openMs }: { logger: Logger; metrics: Pick<BooksvcMetrics, "retry">; openMs: number },
): IDisposable[] {
  const subscriptions: IDisposable[] = [];
  if (breaker) {
    subscriptions.push(
      breaker.policy.onBreak((reason) => {
        // Held open by hand only for the instant a background probe closes it (Breaker.probe).
        if (typeof reason === "object" && reason !== null && "isolated" in reason) return;
        logger.warn({ breaker: "open", open_ms: openMs, cause: describeFailure(reason) }, "circuit breaker opened");
      }),
      breaker.policy.onHalfOpen(() => logger.info({ breaker: "half-open" }, "circuit breaker half-open: probing upstream")),
      breaker.policy.onReset(() => logger.info({ breaker: "closed" }, "circuit breaker closed")),
    );
  }
  if (retry) {
    subscriptions.push(
      retry.onRetry((event) => {
        metrics.retry();
        logger.debug({ attempt: event.attempt, delay_ms: Math.round(event.delayMs), cause: describeFailure(event.error) }, "retrying upstream");
      }),
      retry.onGiveUp((event) =>
        logger.debug({ reason: event.reason, attempts: event.attempts, cause: describeFailure(event.error) }, "retries given up"),
      ),
    );
  }
  return subscriptions;
}

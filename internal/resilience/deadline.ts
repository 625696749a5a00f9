/**
 * A request deadline: one signal that aborts when the time is up or when the
 * caller (the client connection) goes away, plus the time left.
 *
 * cockatiel's retry sleep cannot be interrupted by a signal, so the backoff
 * asks the deadline how much time is left before it sleeps (see backoff.ts).
 */
export interface Deadline {
  /** Aborts at the deadline (reason: DeadlineExceededError) or when the parent aborts. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds (Date.now clock) at which the deadline falls. */
  readonly at: number;
  /** Milliseconds left, never negative. */
  remainingMs(): number;
  /** True once the deadline time has been reached (not when only the parent aborted). */
  expired(): boolean;
  /** Clears the timer and the parent listener. Safe to call twice. */
  dispose(): void;
}

/** Thrown when no further attempt fits before the request deadline. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
  constructor(message = "request deadline exceeded", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Starts a deadline `timeoutMs` from now. When `parent` aborts (the client left),
 * the deadline's signal aborts too, with the parent's reason.
 */
export function startDeadline(timeoutMs: number, parent?: AbortSignal): Deadline {
  const at = Date.now() + timeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DeadlineExceededError());
  }, Math.max(0, timeoutMs));
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });

  return {
    signal: controller.signal,
    at,
    remainingMs: () => Math.max(0, at - Date.now()),
    expired: () => timedOut || Date.now() >= at,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

/** Resolves when `signal` aborts (at once if it already has). Never rejects. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

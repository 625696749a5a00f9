import { once } from "node:events";

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
 *
 * The signal, its timer and the parent listener are set up the first time `signal` is
 * read: a request answered without an upstream call (breaker open, answer from the
 * cache) never pays for them. `parent` may be a function for the same reason (reading
 * a Bun request's `signal` creates it). The timer still fires at `at`.
 */
export function startDeadline(timeoutMs: number, parent?: AbortSignal | (() => AbortSignal)): Deadline {
  const at = Date.now() + timeoutMs;
  let timedOut = false;
  let armed:
    | { controller: AbortController; timer?: ReturnType<typeof setTimeout>; parent: AbortSignal | undefined; onParentAbort: () => void }
    | undefined;
  let disposed = false;

  const arm = (): AbortSignal => {
    if (armed !== undefined) return armed.controller.signal;
    const controller = new AbortController();
    const parentSignal = typeof parent === "function" ? parent() : parent;
    const onParentAbort = (): void => controller.abort(parentSignal?.reason);
    armed = { controller, parent: parentSignal, onParentAbort };
    if (disposed) return controller.signal; // read after dispose: a signal that never fires
    armed.timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DeadlineExceededError());
    }, Math.max(0, at - Date.now()));
    if (parentSignal?.aborted) onParentAbort();
    // No `{ once: true }`: an abort fires once anyway and dispose() removes the listener (cheaper without options).
    else parentSignal?.addEventListener("abort", onParentAbort);
    return controller.signal;
  };

  return {
    get signal() {
      return arm();
    },
    at,
    remainingMs: () => Math.max(0, at - Date.now()),
    expired: () => timedOut || Date.now() >= at,
    dispose() {
      disposed = true;
      if (armed === undefined) return;
      clearTimeout(armed.timer);
      armed.parent?.removeEventListener("abort", armed.onParentAbort);
    },
  };
}

/** Resolves when `signal` aborts (at once if it already has). Never rejects. */
export async function untilAborted(signal: AbortSignal): Promise<void> {
  if (!signal.aborted) await once(signal, "abort");
}

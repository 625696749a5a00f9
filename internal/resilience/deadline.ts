import { once } from "node:events";

/**
 * A request deadline: one signal that aborts when the time is up or when the
 * caller (the client connection) goes away, plus the time left.
 *
 * The retry asks it how much time is left before each backoff delay, and gives up
 * instead of sleeping past it (see deadline-retry.ts).
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
  /** Clears the timer. Safe to call twice. */
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
 * Starts a deadline `timeoutMs` from now. When `parent` aborts (the client left), the
 * deadline's signal aborts too, with the parent's reason. `parent` may be a function: it is
 * called when `signal` is first read (reading a Bun request's `signal` creates it).
 */
export function startDeadline(timeoutMs: number, parent?: AbortSignal | (() => AbortSignal)): Deadline {
  const at = Date.now() + timeoutMs;
  // Our own timer rather than AbortSignal.timeout: its DeadlineExceededError reason tells our
  // deadline from the client leaving, and dispose() can clear it.
  const ours = new AbortController();
  const timer = setTimeout(() => ours.abort(new DeadlineExceededError()), timeoutMs);
  let signal: AbortSignal | undefined;
  return {
    // Built on first read: an answer from the cache never reads it, nor creates the client's signal.
    get signal() {
      if (signal !== undefined) return signal;
      const parentSignal = typeof parent === "function" ? parent() : parent;
      signal = parentSignal === undefined ? ours.signal : AbortSignal.any([parentSignal, ours.signal]);
      return signal;
    },
    at,
    remainingMs: () => Math.max(0, at - Date.now()),
    expired: () => ours.signal.aborted || Date.now() >= at,
    dispose: () => clearTimeout(timer),
  };
}

/** Resolves when `signal` aborts (at once if it already has). Never rejects. */
export async function untilAborted(signal: AbortSignal): Promise<void> {
  if (!signal.aborted) await once(signal, "abort");
}

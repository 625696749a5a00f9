import { setTimeout } from "node:timers/promises";
import type { Logger } from "../logging/logger.ts";
import type { BooksRepository } from "./books-repository.ts";
import { describeError } from "../logging/describe-error.ts";

export interface SchemaKeeperOptions {
  repository: Pick<BooksRepository, "migrate" | "seedIfEmpty">;
  logger: Logger;
  /** First pause between attempts; doubles after each failure up to `maxDelayMs`. */
  initialDelayMs?: number;
  /**
   * Longest pause between attempts. Half a second: the service serves again well within the
   * contract's 2 s of the database returning, and a refused connection costs next to nothing.
   */
  maxDelayMs?: number;
  /**
   * Waits `ms` between attempts, or less once `signal` aborts; never rejects. Default: a timer.
   * Tests pass their own, so time passes when they say.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Makes the books schema ready in the background: `migrate()` then `seedIfEmpty()`, retried with
 * capped exponential backoff while the database is unreachable. It never throws, so a database
 * outage at start never stops the service from starting. `markStale()` (the table vanished, e.g.
 * a fresh database came back) sends it to work again.
 */
export class SchemaKeeper {
  #ready = false;
  #wake: (() => void) | undefined;
  readonly #repository: SchemaKeeperOptions["repository"];
  readonly #logger: Logger;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor({ repository, logger, initialDelayMs = 100, maxDelayMs = 500, sleep = abortableSleep }: SchemaKeeperOptions) {
    this.#repository = repository;
    this.#logger = logger;
    this.#initialDelayMs = initialDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#sleep = sleep;
  }

  /** True once the table exists and is seeded, until `markStale()`. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The schema can no longer be trusted (the table is missing): prepare it again. */
  markStale(): void {
    if (!this.#ready) return;
    this.#ready = false;
    this.#logger.warn("books table missing; preparing the schema again");
    this.#wake?.();
  }

  /** Keeps the schema ready until `signal` aborts; resolves once the current attempt has ended. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.#ready) await this.#untilStaleOrAborted(signal);
      else await this.#prepare(signal);
    }
  }

  async #prepare(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let delayMs = this.#initialDelayMs;
    let lastProblem: string | undefined;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.#repository.migrate();
        const seeded = await this.#repository.seedIfEmpty();
        this.#ready = true;
        this.#logger.info({ attempts: attempt, waited_ms: Date.now() - started, seeded }, "books schema ready");
        return;
      } catch (error) {
        const problem = describeError(error);
        // One warning per distinct problem, not one per attempt: an outage must not flood the log.
        if (problem !== lastProblem) {
          this.#logger.warn({ err: error, attempt, retry_in_ms: delayMs }, "database not ready; retrying");
          lastProblem = problem;
        } else {
          this.#logger.debug({ attempt, retry_in_ms: delayMs, error: problem }, "database still not ready");
        }
      }
      await this.#sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, this.#maxDelayMs);
    }
  }

  #untilStaleOrAborted(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Waits `ms`, or less when `signal` aborts (the stop: not an error here). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return setTimeout(ms, undefined, { signal }).catch(() => {});
}

import { setTimeout } from "node:timers/promises";
import type { Logger } from "../logging/logger.ts";
import { describeError } from "../logging/describe-error.ts";
import type { MigrationOutcome } from "./books-table-migration.ts";

export interface SchemaKeeperOptions {
  /** One migration attempt (DB_MIGRATE=auto): creates the table when missing, never alters one. */
  migrate: () => Promise<MigrationOutcome>;
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
 * The start-up migration (DB_MIGRATE=auto), in the background: retried with capped exponential
 * backoff while the database is unreachable, read-only, or a standby without the table yet, and
 * over for good once the table exists. It never throws, so a database outage at start never stops
 * the service from starting. It never runs again: a table that vanishes later is an outage that
 * `GET /books` and `/readyz` report, never a reason to create (and seed) a new one.
 */
export class SchemaKeeper {
  #ready = false;
  readonly #migrate: () => Promise<MigrationOutcome>;
  readonly #logger: Logger;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor({ migrate, logger, initialDelayMs = 100, maxDelayMs = 500, sleep = abortableSleep }: SchemaKeeperOptions) {
    this.#migrate = migrate;
    this.#logger = logger;
    this.#initialDelayMs = initialDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#sleep = sleep;
  }

  /** True once the start-up migration found or created the table; it stays true. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Attempts the migration until it has found or created the table, or `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let delayMs = this.#initialDelayMs;
    let lastProblem: string | undefined;
    for (let attempt = 1; !signal.aborted; attempt++) {
      let problem: string;
      try {
        const outcome = await this.#migrate();
        if (outcome !== "standby") {
          this.#ready = true;
          this.#logger.info({ attempts: attempt, waited_ms: Date.now() - started, table: outcome }, "books schema ready");
          return;
        }
        problem = "the database is a standby without the books table: waiting for it to arrive from the primary (no DDL on a standby)";
        if (problem !== lastProblem) this.#logger.warn({ attempt, retry_in_ms: delayMs }, problem);
      } catch (error) {
        problem = describeError(error);
        // One warning per distinct problem, not one per attempt: an outage must not flood the log.
        if (problem !== lastProblem) this.#logger.warn({ err: error, attempt, retry_in_ms: delayMs }, "database not ready; retrying");
      }
      if (problem === lastProblem) this.#logger.debug({ attempt, retry_in_ms: delayMs, error: problem }, "database still not ready");
      lastProblem = problem;
      await this.#sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, this.#maxDelayMs);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (the stop: not an error here). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return setTimeout(ms, undefined, { signal }).catch(() => {});
}

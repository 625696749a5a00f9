/** Envoy's and Finagle's window: retries are weighed against the requests of the last 10 s. */
export const RETRY_BUDGET_WINDOW_MS = 10_000;
const BUCKETS = 10;

export interface RetryBudgetOptions {
  /** RETRY_BUDGET_PERCENT: retries allowed per 100 requests in the window. */
  percent: number;
  /** RETRY_BUDGET_MIN_PER_S: retries per second allowed however few the requests (× the window). */
  minPerSecond: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * A replica's retry budget: over a sliding 10 s window, retries stay within the larger of
 * `percent` % of the requests and `minPerSecond` × 10. Without it, a sick upstream under many
 * clients receives every request several times over, just when it can least afford it.
 *
 * The window is ten one-second buckets, so it slides a second at a time.
 */
export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  /** The second the newest bucket counts. */
  private second: number;
  private readonly bucketMs = RETRY_BUDGET_WINDOW_MS / BUCKETS;
  private readonly now: () => number;

  constructor(private readonly options: RetryBudgetOptions) {
    this.now = options.now ?? Date.now;
    this.second = Math.floor(this.now() / this.bucketMs);
  }

  /** A request started (one per client request, whatever its attempts): funds `percent` % of a retry. */
  recordRequest(): void {
    this.requests[this.slide()]! += 1;
  }

  /** Spends one retry if the budget allows it; false (nothing spent) when it does not. */
  tryRetry(): boolean {
    const bucket = this.slide();
    if (this.sum(this.retries) + 1 > this.allowedInWindow()) return false;
    this.retries[bucket]! += 1;
    return true;
  }

  /** Retries the window allows now. */
  allowed(): number {
    this.slide();
    return this.allowedInWindow();
  }

  private allowedInWindow(): number {
    const { percent, minPerSecond } = this.options;
    return Math.max((this.sum(this.requests) * percent) / 100, (minPerSecond * RETRY_BUDGET_WINDOW_MS) / 1000);
  }

  /** The bucket of the current second, after emptying those that left the window. */
  private slide(): number {
    const second = Math.floor(this.now() / this.bucketMs);
    if (second !== this.second) {
      const passed = Math.min(BUCKETS, second - this.second);
      for (let s = 1; s <= passed; s++) {
        const bucket = (((this.second + s) % BUCKETS) + BUCKETS) % BUCKETS;
        this.requests[bucket] = 0;
        this.retries[bucket] = 0;
      }
      // A clock that stepped back keeps counting in the newest bucket.
      if (second > this.second) this.second = second;
    }
    return ((this.second % BUCKETS) + BUCKETS) % BUCKETS;
  }

  private sum(buckets: number[]): number {
    let total = 0;
    for (const count of buckets) total += count;
    return total;
  }
}

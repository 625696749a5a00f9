import type { BooksvcSample } from "./timeline.ts";

/** A booksvc process to read, by the name the timeline knows it by. */
export interface SampledBooksvc {
  name: string;
  url: string;
}

export interface MetricsSamplerOptions {
  /** The processes to read at each tick (asked every time: replicas come and go). */
  targets: () => readonly SampledBooksvc[];
  /** Reads one process's /metrics; rejects when it does not answer in time. */
  read: (url: string, timeoutMs: number) => Promise<{ calls: number; breakerState: number }>;
  /** Ticks at startedAt + k · intervalMs, so each reading opens a timeline second. */
  startedAt: number;
  intervalMs?: number;
}

/**
 * Reads every booksvc's /metrics once a second while a drill runs. A process that does not answer
 * (stopped, killed, restarting) has no reading for that tick; a tick still running when the next
 * is due makes that one skip rather than pile up.
 */
export class MetricsSampler {
  readonly samples = new Map<string, BooksvcSample[]>();
  readonly #options: Required<MetricsSamplerOptions>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tick: Promise<void> | undefined;
  #stopped = false;
  /** The index of the next tick: at startedAt + index · intervalMs. */
  #nextTick = 0;

  constructor(options: MetricsSamplerOptions) {
    this.#options = { intervalMs: 1_000, ...options };
  }

  start(): this {
    this.#schedule();
    return this;
  }

  /** Stops ticking and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const { startedAt, intervalMs } = this.#options;
    const tick = Math.max(this.#nextTick, Math.ceil((Date.now() - startedAt) / intervalMs));
    this.#nextTick = tick + 1;
    const next = startedAt + tick * intervalMs;
    this.#timer = setTimeout(() => {
      if (this.#tick === undefined) this.#tick = this.#sampleAll().finally(() => (this.#tick = undefined));
      this.#schedule();
    }, next - Date.now());
  }

  async #sampleAll(): Promise<void> {
    const at = Date.now();
    await Promise.all(
      this.#options.targets().map(async (target) => {
        try {
          const read = await this.#options.read(target.url, this.#options.intervalMs);
          const list = this.samples.get(target.name) ?? [];
          list.push({ at, upstreamCalls: read.calls, breakerState: read.breakerState });
          this.samples.set(target.name, list);
        } catch {
          // No answer this second: a gap in the chart, which is what happened.
        }
      }),
    );
  }
}

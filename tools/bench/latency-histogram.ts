/**
 * Latencies as a mergeable histogram: exact to 1 µs below 1 ms, three significant digits above.
 * Small enough to pass between processes as JSON, exact enough for p50/p99, and rounds of the
 * same target merge by adding counts (percentiles of percentiles would be wrong).
 */
import { nearestRank } from "../kit/stats.ts";

export type HistogramJson = Record<string, number>;

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private maxMicros = 0;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const micros = bucketMicros(ms * 1000);
    this.counts.set(micros, (this.counts.get(micros) ?? 0) + 1);
    this.total += 1;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  merge(other: LatencyHistogram): void {
    for (const [micros, count] of other.counts) {
      this.counts.set(micros, (this.counts.get(micros) ?? 0) + count);
      if (micros > this.maxMicros) this.maxMicros = micros;
    }
    this.total += other.total;
  }

  get count(): number {
    return this.total;
  }

  /** The latency in ms below which `fraction` of the samples fall (0 when empty). */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = nearestRank(fraction, this.total);
    let seen = 0;
    for (const micros of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(micros) ?? 0;
      if (seen >= rank) return micros / 1000;
    }
    return this.maxMicros / 1000;
  }

  get maxMs(): number {
    return this.maxMicros / 1000;
  }

  toJSON(): HistogramJson {
    return Object.fromEntries(this.counts);
  }

  static fromJSON(json: HistogramJson): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const [key, count] of Object.entries(json)) {
      const micros = Number(key);
      histogram.counts.set(micros, count);
      histogram.total += count;
      if (micros > histogram.maxMicros) histogram.maxMicros = micros;
    }
    return histogram;
  }
}

function bucketMicros(micros: number): number {
  if (micros < 1000) return Math.max(1, Math.round(micros));
  const magnitude = 10 ** (Math.floor(Math.log10(micros)) - 2);
  return Math.round(micros / magnitude) * magnitude;
}

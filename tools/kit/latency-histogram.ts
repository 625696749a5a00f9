/**
 * Latencies as an HdrHistogram (hdr-histogram-js): microseconds to three significant digits, from
 * 1 µs to whatever comes. Small enough to pass between processes (compressed base64), and rounds of
 * the same target merge by adding counts, since percentiles of percentiles would be wrong. The
 * bench, the drill and drill:cluster all read their latency percentiles from here.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

/** A histogram as it travels between processes: HdrHistogram's compressed base64 encoding. */
export type HistogramJson = string;

const newHistogram = (): Histogram => build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

export class LatencyHistogram {
  readonly #histogram: Histogram;

  constructor(histogram: Histogram = newHistogram()) {
    this.#histogram = histogram;
  }

  /** Records one latency in milliseconds (below 1 µs counts as 1 µs). */
  record(ms: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  merge(other: LatencyHistogram): void {
    this.#histogram.add(other.#histogram);
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The latency in ms below which `fraction` (0–1) of the samples fall, 0 when empty. */
  percentile(fraction: number): number {
    return this.count === 0 ? 0 : this.#histogram.getValueAtPercentile(fraction * 100) / 1000;
  }

  get maxMs(): number {
    return this.#histogram.maxValue / 1000;
  }

  toJSON(): HistogramJson {
    return encodeIntoCompressedBase64(this.#histogram);
  }

  static fromJSON(json: HistogramJson): LatencyHistogram {
    return new LatencyHistogram(decodeFromCompressedBase64(json));
  }
}

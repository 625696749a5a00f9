/**
 * A drill, second by second: what each group of clients saw (requests, books, latency) and what
 * its booksvc processes did (upstream calls, breaker state), in buckets of one second from the
 * moment the clients started. What `--json` prints and what the report draws.
 */
import type { RequestRecord } from "../drill/load-worker.ts";
import { percentileOfSorted } from "../kit/stats.ts";

/** One reading of a booksvc process's /metrics. */
export interface BooksvcSample {
  /** Epoch ms of the reading. */
  at: number;
  /** `booksvc_upstream_calls_total`: calls that reached storagesvc so far (0 again after a restart). */
  upstreamCalls: number;
  /** `booksvc_breaker_state`: 0 closed, 1 open, 2 half-open. */
  breakerState: number;
}

/** A fault the drill injected, or a scenario it ran: shaded in the report. */
export interface TimelineWindow {
  /** Machine name: `database-down`. */
  name: string;
  /** What a person reads on the chart: `database down`. */
  label: string;
  /** From and to, ms after the timeline's start. */
  fromMs: number;
  toMs: number;
}

/** Something the drill did at one moment (a replica restarted, say), ms after the timeline's start. */
export interface TimelineEvent {
  atMs: number;
  text: string;
}

/** One group of clients (a strategy, or every client through HAProxy), second by second. */
export interface TimelineGroup {
  name: string;
  /** Requests started in each second. */
  requests: number[];
  /** Share (0–100) of those answered 200 with a list of books; null when none started. */
  booksPct: Array<number | null>;
  /** Share (0–100) answered with books fresh from storagesvc (`Cache-Status: …fwd=miss`). */
  freshPct: Array<number | null>;
  /** Latency percentiles of the requests started in each second, ms; null when none started. */
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  /** Calls the group's booksvc processes made to storagesvc in each second; null when none was read. */
  upstreamCalls: Array<number | null>;
  /** Per booksvc process with a breaker: its state read in each second (0 closed, 1 open, 2 half-open). */
  breakers: Array<{ booksvc: string; state: Array<number | null> }>;
}

export interface Timeline {
  /** Epoch ms of the start of the first second. */
  startedAt: number;
  bucketMs: number;
  seconds: number;
  windows: TimelineWindow[];
  events: TimelineEvent[];
  groups: TimelineGroup[];
}

/** What one group is made of: which requests, which booksvc processes. */
export interface GroupSource {
  name: string;
  pick: (record: RequestRecord) => boolean;
  /** The booksvc processes serving the group, by name, each with its /metrics readings in time order. */
  booksvc: Array<{ name: string; samples: readonly BooksvcSample[]; breaker: boolean }>;
}

const bucketOf = (at: number, startedAt: number, bucketMs: number) => Math.floor((at - startedAt) / bucketMs);

/**
 * A counter's increase in each bucket, from readings in time order: the increase between two
 * readings goes to the bucket of their midpoint (readings one per second at the buckets' starts
 * give each bucket what happened in it). A reading lower than the previous one is a restarted
 * process counting from 0 again: its whole value is the increase. Buckets before the first
 * reading, and after the last one, are null (not read).
 */
export function increasePerBucket(readings: ReadonlyArray<{ at: number; value: number }>, startedAt: number, bucketMs: number, buckets: number): Array<number | null> {
  const result: Array<number | null> = new Array(buckets).fill(null);
  let previous: { at: number; value: number } | undefined;
  const add = (bucket: number, increase: number) => {
    if (bucket >= 0 && bucket < buckets) result[bucket] = (result[bucket] ?? 0) + increase;
  };
  for (const reading of readings) {
    if (previous === undefined) add(bucketOf(reading.at, startedAt, bucketMs), 0);
    else {
      // The seconds between two readings are known: 0 unless the increase lands in them.
      const last = bucketOf(reading.at, startedAt, bucketMs) - 1;
      for (let b = bucketOf(previous.at, startedAt, bucketMs); b <= last; b++) add(b, 0);
      const increase = reading.value >= previous.value ? reading.value - previous.value : reading.value;
      add(bucketOf((previous.at + reading.at) / 2, startedAt, bucketMs), increase);
    }
    previous = reading;
  }
  return result;
}

/** A gauge per bucket: its last reading in each; null where none was read. */
export function lastPerBucket(readings: ReadonlyArray<{ at: number; value: number }>, startedAt: number, bucketMs: number, buckets: number): Array<number | null> {
  const result: Array<number | null> = new Array(buckets).fill(null);
  for (const reading of readings) {
    const bucket = bucketOf(reading.at, startedAt, bucketMs);
    if (bucket >= 0 && bucket < buckets) result[bucket] = reading.value;
  }
  return result;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** One group's per-second series over `buckets` seconds from `startedAt`. */
export function groupTimeline(source: GroupSource, records: readonly RequestRecord[], startedAt: number, bucketMs: number, buckets: number): TimelineGroup {
  const perBucket: RequestRecord[][] = Array.from({ length: buckets }, () => []);
  for (const record of records) {
    if (!source.pick(record)) continue;
    perBucket[bucketOf(record.startedAt, startedAt, bucketMs)]?.push(record);
  }
  const share = (bucket: RequestRecord[], count: (r: RequestRecord) => boolean) =>
    bucket.length === 0 ? null : round((100 * bucket.filter(count).length) / bucket.length, 1);
  const latency = (bucket: RequestRecord[], fraction: number) =>
    bucket.length === 0 ? null : round(percentileOfSorted(bucket.map((r) => r.latencyMs).sort((a, b) => a - b), fraction), 1);

  const calls = source.booksvc.map((b) =>
    increasePerBucket(b.samples.map((s) => ({ at: s.at, value: s.upstreamCalls })), startedAt, bucketMs, buckets),
  );
  return {
    name: source.name,
    requests: perBucket.map((b) => b.length),
    booksPct: perBucket.map((b) => share(b, (r) => r.books)),
    freshPct: perBucket.map((b) => share(b, (r) => r.fresh)),
    p50Ms: perBucket.map((b) => latency(b, 0.5)),
    p99Ms: perBucket.map((b) => latency(b, 0.99)),
    upstreamCalls: Array.from({ length: buckets }, (_, i) => {
      const read = calls.map((c) => c[i]).filter((v): v is number => v !== null && v !== undefined);
      return read.length === 0 ? null : read.reduce((a, b) => a + b, 0);
    }),
    breakers: source.booksvc
      .filter((b) => b.breaker)
      .map((b) => ({ booksvc: b.name, state: lastPerBucket(b.samples.map((s) => ({ at: s.at, value: s.breakerState })), startedAt, bucketMs, buckets) })),
  };
}

export interface TimelineInput {
  records: readonly RequestRecord[];
  groups: readonly GroupSource[];
  startedAt: number;
  /** Epoch ms the timeline ends at; a last second cut short is left out. */
  endedAt: number;
  windows?: TimelineWindow[];
  events?: TimelineEvent[];
  bucketMs?: number;
}

export function buildTimeline(input: TimelineInput): Timeline {
  const bucketMs = input.bucketMs ?? 1000;
  const seconds = Math.max(0, Math.floor((input.endedAt - input.startedAt) / bucketMs));
  return {
    startedAt: input.startedAt,
    bucketMs,
    seconds,
    windows: input.windows ?? [],
    events: input.events ?? [],
    groups: input.groups.map((g) => groupTimeline(g, input.records, input.startedAt, bucketMs, seconds)),
  };
}

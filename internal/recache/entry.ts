import type { CacheEntry } from "./cache.ts";

/**
 * The stored envelope: a one-line header with the time the value was stored, then the value
 * as it was put, unescaped: `recache/1 t=1700000000000\n<value>`. Unescaped, a stored string is
 * never more than `ENVELOPE_MAX_BYTES` longer than its value, so a size limit on the stored string
 * is a size limit on the value (JSON escaping could have made a value up to six times longer).
 */
const HEADER_PREFIX = "recache/1 t=";
const HEADER = /^recache\/1 t=(\d{1,15})\n/;

/** The most the envelope adds to a value: the header with a 15-digit time and its newline is 28 bytes. */
export const ENVELOPE_MAX_BYTES = 32;

/** The default cap on a stored value (1 MiB, booksvc's default upstream body cap). */
export const DEFAULT_MAX_VALUE_BYTES = 1_048_576;

/** No entry can be older than this: a time of 0 or a truncated one is damage, not a date (2000-01-01). */
export const EARLIEST_STORED_AT = Date.UTC(2000, 0, 1);

/**
 * How far ahead of the reader's clock a writer's clock may be. Replicas' clocks differ a little;
 * an entry further in the future than this is impossible (its `Age` would read 0 for as long).
 */
export const MAX_CLOCK_AHEAD_MS = 5_000;

/** Why a stored entry was ignored (read as a miss). */
export type EntryProblem = "malformed" | "oversized" | "impossible-time";

/** A stored entry that was read as a miss, for the caller to count or log. Never holds the value. */
export interface IgnoredEntry {
  key: string;
  problem: EntryProblem;
  /** Size of the stored string in bytes, when known. */
  bytes?: number;
  /** The stored time, for `impossible-time`. */
  storedAt?: number;
}

/** Encodes an entry for storage. */
export function encodeEntry(entry: CacheEntry): string {
  return `${HEADER_PREFIX}${entry.storedAt}\n${entry.value}`;
}

/**
 * Decodes a stored string; `undefined` when it is not an envelope (a bare body such as the
 * article's `item` key, a truncated write, another program's value). Never throws.
 */
export function decodeEntry(raw: string): CacheEntry | undefined {
  const header = HEADER.exec(raw);
  if (header === null) return undefined;
  return { value: raw.slice(header[0].length), storedAt: Number(header[1]) };
}

/** Whether an entry stamped `storedAt` can exist when the reader's clock says `now`. */
export function isPossibleTime(storedAt: number, now: number): boolean {
  return storedAt >= EARLIEST_STORED_AT && storedAt <= now + MAX_CLOCK_AHEAD_MS;
}

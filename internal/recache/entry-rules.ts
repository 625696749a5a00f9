import type { CacheEntry } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { decodeEntry, ENVELOPE_MAX_BYTES } from "./entry.ts";

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

/** Why a stored entry is ignored, before the cache names the key it was under. */
export type IgnoreReason = Omit<IgnoredEntry, "key">;

/** Whether an entry stamped `storedAt` can exist when the reader's clock says `now`. */
export function isPossibleTime(storedAt: number, now: number): boolean {
  return storedAt >= EARLIEST_STORED_AT && storedAt <= now + MAX_CLOCK_AHEAD_MS;
}

/** The options every cache takes: its clock, its value cap and where ignored entries go. */
export interface EntryRulesOptions {
  /** Clock in epoch milliseconds, to stamp entries and to judge their time; inject a fake one in tests. Default `Date.now`. */
  now?: () => number;
  /** Largest value stored or read back, in bytes. Default `DEFAULT_MAX_VALUE_BYTES` (1 MiB). */
  maxValueBytes?: number;
  /**
   * Called for each stored entry read as a miss because it is malformed, oversized or has an
   * impossible time. Every read of such an entry calls it: throttle before logging.
   */
  onIgnoredEntry?: (ignored: IgnoredEntry) => void;
}

/**
 * What a cache may store and serve, one definition for every `Cache`: a put needs a positive TTL
 * and a value within the cap; a stored string is served only when it is an envelope no longer than
 * the cap plus the envelope, stamped at a possible time. Any other reads as a miss, and is
 * reported through `onIgnoredEntry`.
 */
export class EntryRules {
  readonly now: () => number;
  readonly maxValueBytes: number;
  /** The longest stored string a read brings back: the value cap plus the envelope. */
  readonly maxStoredBytes: number;
  readonly #onIgnoredEntry: (ignored: IgnoredEntry) => void;

  constructor(options: EntryRulesOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.maxStoredBytes = this.maxValueBytes + ENVELOPE_MAX_BYTES;
    this.#onIgnoredEntry = options.onIgnoredEntry ?? (() => {});
  }

  /** Throws a put's `CacheError` for a TTL that is not a positive number or a value over the cap (in UTF-8 bytes). */
  checkPut(value: string, ttlSeconds: number): void {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxValueBytes) {
      throw new CacheError("put", { cause: new RangeError(`value of ${bytes} bytes exceeds ${this.maxValueBytes}`) });
    }
  }

  /**
   * The entry a stored string holds, or why it holds none. `stored` is the string, or only its size
   * in bytes when it is longer than `maxStoredBytes` (a read never brings such a string back). The
   * time is not judged here: it depends on the clock at each read (see `serve`).
   */
  decode(stored: string | number): CacheEntry | IgnoreReason {
    if (typeof stored === "number") return { problem: "oversized", bytes: stored };
    return decodeEntry(stored) ?? { problem: "malformed", bytes: Buffer.byteLength(stored) };
  }

  /**
   * What a read of `key` answers with a decoded entry: the entry when its time is possible at `now`;
   * otherwise `undefined` (a miss), after reporting why it was ignored.
   */
  serve(key: string, decoded: CacheEntry | IgnoreReason, now: number): CacheEntry | undefined {
    if ("problem" in decoded) return this.#ignore({ key, ...decoded });
    if (!isPossibleTime(decoded.storedAt, now)) return this.#ignore({ key, problem: "impossible-time", storedAt: decoded.storedAt });
    return decoded;
  }

  #ignore(ignored: IgnoredEntry): undefined {
    this.#onIgnoredEntry(ignored);
    return undefined;
  }
}

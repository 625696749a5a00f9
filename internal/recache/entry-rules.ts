import type { CacheEntry } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { decodeEntry, ENVELOPE_MAX_BYTES, isEntryName } from "./entry.ts";

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
export type EntryProblem = "malformed" | "oversized" | "impossible-time" | "wrong-name";

/** A stored entry that was read as a miss, for the caller to count or log. Never holds the value. */
export interface IgnoredEntry {
  key: string;
  problem: EntryProblem;
  /** Size of the stored string in bytes, when known. */
  bytes?: number;
  /** The stored time, for `impossible-time`. */
  storedAt?: number;
  /** For `wrong-name`: the name the entry carries (absent: unnamed) and the one the reader asked for. */
  name?: string;
  expected?: string;
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
   * Called for each stored entry read as a miss because it is malformed, oversized, has an
   * impossible time or another name than the reader asked for. Every read of such an entry calls it: throttle before logging.
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

  /**
   * Throws a put's `CacheError` for a TTL that is not a positive number, a value over the cap (in
   * UTF-8 bytes) or a name the envelope cannot hold.
   */
  checkPut(value: string, ttlSeconds: number, name?: string): void {
    if (name !== undefined && !isEntryName(name)) {
      throw new CacheError("put", { cause: new RangeError(`name must be 1 to 100 printable ASCII characters without spaces, got ${JSON.stringify(name.slice(0, 120))}`) });
    }
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
    const entry = decodeEntry(stored);
    if (entry === undefined) return { problem: "malformed", bytes: Buffer.byteLength(stored) };
    // The envelope's room for a name lets a value a little over the cap through the size bound of the read.
    if (entry.value.length > this.maxValueBytes / 3 && Buffer.byteLength(entry.value) > this.maxValueBytes) {
      return { problem: "oversized", bytes: Buffer.byteLength(stored) };
    }
    return entry;
  }

  /**
   * What a read of `key` answers with a decoded entry: the entry when its time is possible at `now`
   * and, when the reader asked for a name (`expected`), it carries that name; otherwise `undefined`
   * (a miss), after reporting why it was ignored.
   */
  serve(key: string, decoded: CacheEntry | IgnoreReason, now: number, expected?: string): CacheEntry | undefined {
    if ("problem" in decoded) return this.#ignore({ key, ...decoded });
    if (!isPossibleTime(decoded.storedAt, now)) return this.#ignore({ key, problem: "impossible-time", storedAt: decoded.storedAt });
    if (expected !== undefined && decoded.name !== expected) {
      return this.#ignore({ key, problem: "wrong-name", expected, ...(decoded.name === undefined ? {} : { name: decoded.name }) });
    }
    return decoded;
  }

  #ignore(ignored: IgnoredEntry): undefined {
    this.#onIgnoredEntry(ignored);
    return undefined;
  }
}

import { describe, expect, test } from "bun:test";
import { CacheError } from "./cache-error.ts";
import { ENVELOPE_MAX_BYTES, encodeEntry } from "./entry.ts";
import {
  DEFAULT_MAX_VALUE_BYTES,
  EARLIEST_STORED_AT,
  EntryRules,
  type IgnoredEntry,
  isPossibleTime,
  MAX_CLOCK_AHEAD_MS,
} from "./entry-rules.ts";

const T0 = 1_700_000_000_000;

/** Rules with a fixed clock, a 100-byte cap, and the entries they reported. */
function rulesForTest() {
  const ignored: IgnoredEntry[] = [];
  const rules = new EntryRules({ now: () => T0, maxValueBytes: 100, onIgnoredEntry: (i) => ignored.push(i) });
  return { rules, ignored };
}

describe("isPossibleTime", () => {
  const now = 1_800_000_000_000;
  test.each([
    [0, false],
    [EARLIEST_STORED_AT - 1, false],
    [EARLIEST_STORED_AT, true],
    [now - 600_000, true],
    [now + MAX_CLOCK_AHEAD_MS, true],
    [now + MAX_CLOCK_AHEAD_MS + 1, false],
  ])("stored at %p: %p", (storedAt, possible) => {
    expect(isPossibleTime(storedAt, now)).toBe(possible);
  });
});

describe("EntryRules", () => {
  test("defaults: Date.now, the 1 MiB cap, and a read bound of the cap plus the envelope", () => {
    const rules = new EntryRules();
    expect(rules.now).toBe(Date.now);
    expect(rules.maxValueBytes).toBe(DEFAULT_MAX_VALUE_BYTES);
    expect(rules.maxStoredBytes).toBe(DEFAULT_MAX_VALUE_BYTES + ENVELOPE_MAX_BYTES);
  });

  test("a put within the cap with a positive TTL passes", () => {
    const { rules } = rulesForTest();
    expect(() => rules.checkPut("x".repeat(100), 0.001)).not.toThrow();
  });

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("a put with TTL %p is a put CacheError", (ttl) => {
    const { rules } = rulesForTest();
    let err: unknown;
    try {
      rules.checkPut("v", ttl);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheError);
    expect((err as CacheError).operation).toBe("put");
    expect(String((err as CacheError).cause)).toContain("ttlSeconds must be a positive number");
  });

  test("a put over the cap, counted in UTF-8 bytes, is a put CacheError", () => {
    const { rules } = rulesForTest();
    expect(() => rules.checkPut("é".repeat(51), 60)).toThrow(CacheError);
  });

  test("decodes an envelope into its entry", () => {
    const { rules } = rulesForTest();
    expect(rules.decode(encodeEntry({ value: "[]", storedAt: T0 }))).toEqual({ value: "[]", storedAt: T0 });
  });

  test("a size instead of a string is an oversized entry of that size", () => {
    const { rules } = rulesForTest();
    expect(rules.decode(50 * 1024 * 1024)).toEqual({ problem: "oversized", bytes: 50 * 1024 * 1024 });
  });

  test("a string that is not an envelope is malformed, with its size in UTF-8 bytes", () => {
    const { rules } = rulesForTest();
    expect(rules.decode("é[]")).toEqual({ problem: "malformed", bytes: 4 });
  });

  test("serves an entry of a possible time without reporting anything", () => {
    const { rules, ignored } = rulesForTest();
    const entry = { value: "[]", storedAt: T0 - 1000 };
    expect(rules.serve("k", entry, T0)).toBe(entry);
    expect(ignored).toEqual([]);
  });

  test("an entry that could not be decoded is a miss, reported with its key", () => {
    const { rules, ignored } = rulesForTest();
    expect(rules.serve("k", rules.decode("garbage"), T0)).toBeUndefined();
    expect(ignored).toEqual([{ key: "k", problem: "malformed", bytes: 7 }]);
  });

  test("an entry stamped at an impossible time at the read's clock is a miss, reported with that time", () => {
    const { rules, ignored } = rulesForTest();
    const storedAt = T0 + MAX_CLOCK_AHEAD_MS + 1;
    expect(rules.serve("k", { value: "[]", storedAt }, T0)).toBeUndefined();
    expect(ignored).toEqual([{ key: "k", problem: "impossible-time", storedAt }]);
  });

  test("without onIgnoredEntry an ignored entry is still a miss", () => {
    const rules = new EntryRules();
    expect(rules.serve("k", { problem: "oversized", bytes: 1 }, T0)).toBeUndefined();
  });
});

import { describe, expect, test } from "bun:test";
import { decodeEntry, encodeEntry } from "./entry.ts";

describe("stored entry envelope", () => {
  test("round-trips a value with the time it was stored", () => {
    const entry = { value: '[{"id":1}]', storedAt: 1_700_000_000_123 };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  test.each([
    ["a bare body (the article's format)", '[{"id":1,"title":"One book"}]'],
    ["not JSON", "garbage{"],
    ["an empty string", ""],
    ["null", "null"],
    ["a missing time", '{"v":"x"}'],
    ["a missing value", '{"t":1}'],
    ["a non-string value", '{"v":[1],"t":1}'],
    ["a string time", '{"v":"x","t":"1"}'],
    ["a negative time", '{"v":"x","t":-1}'],
    ["a fractional time", '{"v":"x","t":1.5}'],
  ])("reads %s as a miss, without throwing", (_name, raw) => {
    expect(decodeEntry(raw)).toBeUndefined();
  });
});

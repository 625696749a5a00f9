import { describe, expect, test } from "bun:test";
import { decodeEntry, ENVELOPE_MAX_BYTES, encodeEntry, MAX_NAME_BYTES } from "./entry.ts";

describe("stored entry envelope", () => {
  test("round-trips a value with the time it was stored", () => {
    const entry = { value: '[{"id":1,"title":"a \\"quoted\\" title\\nand a newline"}]', storedAt: 1_700_000_000_123 };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  test("round-trips the name of what the value is", () => {
    const entry = { value: "[]", storedAt: 1_700_000_000_123, name: "limit=1000&after=9223372036854775807" };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  test("adds at most ENVELOPE_MAX_BYTES to the value, whatever the value holds", () => {
    const value = '"\\\n'.repeat(1000);
    const encoded = encodeEntry({ value, storedAt: 999_999_999_999_999, name: "n".repeat(MAX_NAME_BYTES) });
    expect(Buffer.byteLength(encoded) - Buffer.byteLength(value)).toBeLessThanOrEqual(ENVELOPE_MAX_BYTES);
  });

  test.each([
    ["a bare body (the article's format)", '[{"id":1,"title":"One book"}]'],
    ["the JSON envelope of earlier versions", '{"v":"[]","t":1700000000000}'],
    ["not JSON", "garbage{"],
    ["an empty string", ""],
    ["a missing time", "recache/1 t=\n[]"],
    ["a header without its newline", "recache/1 t=1700000000000"],
    ["a string time", "recache/1 t=abc\n[]"],
    ["a negative time", "recache/1 t=-1\n[]"],
    ["a fractional time", "recache/1 t=1.5\n[]"],
    ["another version", "recache/2 t=1700000000000\n[]"],
    ["an empty name", "recache/1 t=1700000000000 n=\n[]"],
    ["a name too long", `recache/1 t=1700000000000 n=${"n".repeat(101)}\n[]`],
  ])("reads %s as not an envelope, without throwing", (_name, raw) => {
    expect(decodeEntry(raw)).toBeUndefined();
  });
});

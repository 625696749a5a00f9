import { describe, expect, test } from "bun:test";
import { hashedPart, keySlot, sameSlotPrefix } from "./hash-slot.ts";

describe("Redis Cluster hash slots", () => {
  test("keySlot gives the slots Redis documents (CLUSTER KEYSLOT)", () => {
    expect(keySlot("somekey")).toBe(11058);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
  });

  test.each([
    ["no braces", "booksvc:books", "booksvc:books"],
    ["a tag", "{booksvc}:books", "booksvc"],
    ["an empty tag: the whole key", "a{}b{c}", "a{}b{c}"],
    ["an unclosed brace: the whole key", "a{b", "a{b"],
    ["the first tag only", "x{a}{b}", "a"],
  ])("hashedPart with %s", (_name, key, part) => {
    expect(hashedPart(key)).toBe(part);
  });

  test.each(["booksvc:books", "{booksvc}:books", "a{b", "a}b", "a{}b", "}{x}y", "item"])(
    "every key built on sameSlotPrefix(%p) shares the key's slot, whatever follows",
    (key) => {
      const prefix = sameSlotPrefix(key);
      for (const suffix of ["?limit=10&after=5", "?pages", "}{", "{z}"]) expect(keySlot(prefix + suffix)).toBe(keySlot(key));
    },
  );

  test("the default key's pages sit under a readable tag", () => {
    expect(sameSlotPrefix("booksvc:books")).toBe("{booksvc:books}");
    expect(sameSlotPrefix("{booksvc}:books")).toBe("{booksvc}:books");
  });
});

import { describe, expect, test } from "bun:test";
import { bookId, UnsendableIdError } from "./book-id.ts";

describe("bookId", () => {
  test("an integer column's number stays as it is", () => {
    expect(bookId(7)).toBe(7);
  });

  test("a bigint column's string becomes the same number, up to 2^53-1", () => {
    expect(bookId("5")).toBe(5);
    expect(bookId("9007199254740991")).toBe(9_007_199_254_740_991);
  });

  test("above 2^53-1 it fails, naming the id and the limit", () => {
    expect(() => bookId("9007199254740992")).toThrow(UnsendableIdError);
    expect(() => bookId("9223372036854775807")).toThrow("book id 9223372036854775807 is above 2^53-1 (9007199254740991)");
  });
});

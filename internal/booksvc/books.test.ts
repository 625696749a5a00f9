import { describe, expect, test } from "bun:test";
import { bookListJson, parseBookList, toBookList } from "./books.ts";

const one = { id: 1, title: "One book", author: "John Doe", desc: "" };

describe("parseBookList", () => {
  test("parses the list storagesvc serves", () => {
    expect(parseBookList(JSON.stringify([one, { ...one, id: 2 }]))).toEqual([one, { ...one, id: 2 }]);
  });

  test("accepts an empty list", () => {
    expect(parseBookList("[]")).toEqual([]);
  });

  test("drops unknown fields", () => {
    expect(parseBookList(JSON.stringify([{ ...one, secret: "x" }]))).toEqual([one]);
  });

  test.each([
    ["empty text", ""],
    ["not JSON", "<html>oops</html>"],
    ["truncated JSON", '[{"id":1,"title":"One'],
    ["null", "null"],
    ["an object", JSON.stringify({ books: [one] })],
    ["a string", '"[]"'],
    ["a missing field", JSON.stringify([{ id: 1, title: "T", author: "A" }])],
    ["a fractional id", JSON.stringify([{ ...one, id: 1.5 }])],
    ["a string id", JSON.stringify([{ ...one, id: "1" }])],
    ["a null title", JSON.stringify([{ ...one, title: null }])],
    ["a list with null", JSON.stringify([one, null])],
  ])("returns undefined, without throwing, for %s", (_name, text) => {
    expect(parseBookList(text)).toBeUndefined();
  });
});

describe("toBookList", () => {
  test("validates an already parsed value", () => {
    expect(toBookList([one])).toEqual([one]);
    expect(toBookList({})).toBeUndefined();
  });
});

describe("bookListJson", () => {
  test("writes only the four fields, in a fixed order", () => {
    const shuffled = { desc: "d", author: "a", title: "t", id: 3 };
    expect(bookListJson([shuffled])).toBe('[{"id":3,"title":"t","author":"a","desc":"d"}]');
  });

  test("round-trips through parseBookList", () => {
    const books = [one, { id: 2, title: "Second book", author: "Jane Doe", desc: "ünïcode \"quoted\"" }];
    expect(parseBookList(bookListJson(books))).toEqual(books);
  });
});

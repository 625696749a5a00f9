import { describe, expect, test } from "bun:test";
import type { Book } from "./book.ts";
import { fitPage } from "./fit-page.ts";

const book = (id: number, desc = ""): Book => ({ id, title: `Book ${id}`, author: "A", desc });
const bytesOf = (books: Book[]) => Buffer.byteLength(JSON.stringify(books));

describe("fitPage", () => {
  test("candidates that fit are sent as they are, serialized once; more left out means cut short", () => {
    const books = [book(1), book(2)];
    expect(fitPage(books, false, 1024)).toEqual({ books, json: JSON.stringify(books), cutShort: false });
    expect(fitPage(books, true, 1024)).toMatchObject({ books, cutShort: true });
  });

  test("escapes that push the candidates past the budget end the page before the book that would pass it", () => {
    // Control characters: one byte in the table, six (\u0001) in JSON.
    const books = [book(1, "\u0001".repeat(100)), book(2, "\u0001".repeat(100)), book(3, "\u0001".repeat(100))];
    const twoFit = bytesOf(books.slice(0, 2));
    const page = fitPage(books, false, twoFit);
    expect(page.books.map((b) => b.id)).toEqual([1, 2]);
    expect(Buffer.byteLength(page.json)).toBe(twoFit);
    expect(page.cutShort).toBe(true);
    expect(fitPage(books, false, twoFit - 1).books.map((b) => b.id)).toEqual([1]);
  });

  test("a single book larger than the budget is still sent", () => {
    const books = [book(1, "\u0001".repeat(500)), book(2)];
    expect(fitPage(books, false, 100)).toMatchObject({ books: [books[0]], cutShort: true });
    expect(fitPage([books[0]!], true, 100)).toMatchObject({ books: [books[0]], cutShort: true });
  });

  test("multi-byte characters count in bytes, as they travel", () => {
    const books = [book(1, "€".repeat(100)), book(2, "€".repeat(100))];
    const one = bytesOf(books.slice(0, 1));
    expect(fitPage(books, false, one + 1).books).toHaveLength(1);
    expect(fitPage(books, false, bytesOf(books)).books).toHaveLength(2);
  });
});

import { describe, expect, test } from "bun:test";
import type { PageQuery } from "../books/page-query.ts";
import { UnsendableIdError } from "./book-id.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { databaseReadiness } from "./database-readiness.ts";
import type { BookSource } from "./ready-books.ts";

/** A source recording what readiness asked for, answering with `answer`. */
function source(answer: () => ReturnType<BookSource["page"]>) {
  const asked: [PageQuery, number | undefined][] = [];
  const books: BookSource = { page: (query, timeLimitMs) => (asked.push([query, timeLimitMs]), answer()) };
  return { asked, books };
}

describe("databaseReadiness", () => {
  test("is ready when the books query answers, and asks it for one book within its own time limit", async () => {
    const { asked, books } = source(async () => ({ books: [], json: "[]", cutShort: false }));
    expect(await databaseReadiness(books, 250)()).toBe(true);
    expect(asked).toEqual([[{ limit: 1, after: 0n }, 250]]);
  });

  test("is not ready when the books query fails or runs out of time", async () => {
    const { books } = source(() => Promise.reject(new DatabaseUnavailableError("the database did not answer within 900 ms")));
    expect(await databaseReadiness(books)()).toBe(false);
  });

  test("is ready when the database answered with an id JSON cannot carry (that page fails, not the service)", async () => {
    const { books } = source(() => Promise.reject(new UnsendableIdError("9007199254740993")));
    expect(await databaseReadiness(books)()).toBe(true);
  });
});

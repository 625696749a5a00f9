import { describe, expect, test } from "bun:test";
import type { BookPage } from "./book.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { readyBooks } from "./ready-books.ts";
import { rejectionOf } from "../../tools/kit/rejection.ts";

const ONE_BOOK: BookPage = { books: [{ id: 1, title: "One book", author: "John Doe", desc: "" }], json: "[...]", cutShort: false };
const FIRST_PAGE = { limit: 100, after: 0n };

describe("readyBooks", () => {
  test("refuses with DatabaseUnavailableError, without querying, until the schema is ready", async () => {
    let queries = 0;
    const books = readyBooks({ page: async () => (queries++, ONE_BOOK) }, { ready: false });
    await expect(books.page(FIRST_PAGE)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(queries).toBe(0);
  });

  test("reads the page asked for once the schema is ready", async () => {
    const asked: unknown[] = [];
    const books = readyBooks({ page: async (query) => (asked.push(query), ONE_BOOK) }, { ready: true });
    expect(await books.page({ limit: 7, after: 42n })).toEqual(ONE_BOOK);
    expect(asked).toEqual([{ limit: 7, after: 42n }]);
  });

  test("passes a database failure on as it is", async () => {
    const missing = new DatabaseUnavailableError("listing books failed", { cause: Object.assign(new Error("relation does not exist"), { code: "42P01" }) });
    await expect(readyBooks({ page: () => Promise.reject(missing) }, { ready: true }).page(FIRST_PAGE)).rejects.toBe(missing);
  });

  test("gives up with DatabaseUnavailableError when the database does not answer in time", async () => {
    const frozen = new Promise<never>(() => {});
    const started = performance.now();
    const failure = readyBooks({ page: () => frozen }, { ready: true }, 100).page(FIRST_PAGE);
    // Awaited plainly, not with expect().rejects: without the time limit it never settles, and Bun
    // would wait for it inside the matcher, past the test's timeout.
    const error = await rejectionOf(failure);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toBe("the database did not answer within 100 ms");
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  test("a caller's own time limit replaces the default", async () => {
    const frozen = new Promise<never>(() => {});
    const error = await rejectionOf(readyBooks({ page: () => frozen }, { ready: true }, 60_000).page(FIRST_PAGE, 20));
    expect(error.message).toBe("the database did not answer within 20 ms");
  });
});

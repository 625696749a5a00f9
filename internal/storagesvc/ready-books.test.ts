import { describe, expect, test } from "bun:test";
import { DatabaseUnavailableError } from "./database-error.ts";
import { readyBooks } from "./ready-books.ts";
import { rejectionOf } from "../../tools/kit/rejection.ts";

const book = { id: 1, title: "One book", author: "John Doe", desc: "" };
const FIRST_PAGE = { limit: 100, after: 0n };

function schema(ready: boolean) {
  const state = { ready, staleMarks: 0 };
  return {
    state,
    get ready() {
      return state.ready;
    },
    markStale() {
      state.staleMarks++;
      state.ready = false;
    },
  };
}

describe("readyBooks", () => {
  test("refuses with DatabaseUnavailableError, without querying, until the schema is ready", async () => {
    let queries = 0;
    const books = readyBooks({ page: async () => (queries++, [book]) }, schema(false));
    await expect(books.page(FIRST_PAGE)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(queries).toBe(0);
  });

  test("reads the page asked for once the schema is ready", async () => {
    const asked: unknown[] = [];
    const books = readyBooks({ page: async (query) => (asked.push(query), [book]) }, schema(true));
    expect(await books.page({ limit: 7, after: 42n })).toEqual([book]);
    expect(asked).toEqual([{ limit: 7, after: 42n }]);
  });

  test("a missing table hands the schema back to the keeper", async () => {
    const keeper = schema(true);
    const missing = new DatabaseUnavailableError("listing books failed", { cause: Object.assign(new Error("relation does not exist"), { code: "42P01" }) });
    const books = readyBooks({ page: () => Promise.reject(missing) }, keeper);
    await expect(books.page(FIRST_PAGE)).rejects.toBe(missing);
    expect(keeper.state).toEqual({ ready: false, staleMarks: 1 });
  });

  test("a connection failure leaves the schema ready (the table is still there when the database returns)", async () => {
    const keeper = schema(true);
    const refused = new DatabaseUnavailableError("listing books failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) });
    await expect(readyBooks({ page: () => Promise.reject(refused) }, keeper).page(FIRST_PAGE)).rejects.toBe(refused);
    expect(keeper.state).toEqual({ ready: true, staleMarks: 0 });
  });

  test("gives up with DatabaseUnavailableError when the database does not answer in time", async () => {
    const frozen = new Promise<never>(() => {});
    const started = performance.now();
    const failure = readyBooks({ page: () => frozen }, schema(true), 100).page(FIRST_PAGE);
    // Awaited plainly, not with expect().rejects: without the time limit it never settles, and Bun
    // would wait for it inside the matcher, past the test's timeout.
    const error = await rejectionOf(failure);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toBe("the database did not answer within 100 ms");
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });
});

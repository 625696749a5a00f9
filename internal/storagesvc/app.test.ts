import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { Readiness } from "../httpx/index.ts";
import { createStoragesvcApp } from "./app.ts";
import type { Book, BookPage } from "./book.ts";
import { UnsendableIdError } from "./book-id.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import type { PageQuery } from "../books/page-query.ts";
import type { BookSource } from "./ready-books.ts";
import { captureLogger } from "../../tools/kit/capture-logger.ts";

const BOOKS: Book[] = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

const pageOf = (books: Book[], cutShort = false): BookPage => ({ books, json: JSON.stringify(books), cutShort });

function appWith(page: BookSource["page"]) {
  const { logger, lines } = captureLogger();
  const app = createStoragesvcApp({ books: { page }, logger, registry: new Registry(), readiness: new Readiness() });
  return { app, lines };
}

/** A source over books 1..count that records every query it is asked. */
function numberedBooks(count: number) {
  const asked: PageQuery[] = [];
  const page: BookSource["page"] = async (query) => {
    asked.push(query);
    const books: Book[] = [];
    for (let id = Number(query.after) + 1; id <= count && books.length < query.limit; id++) {
      books.push({ id, title: `Book ${id}`, author: "A", desc: "" });
    }
    return pageOf(books);
  };
  return { asked, ...appWith(page) };
}

describe("GET /books", () => {
  test("answers 200 with the books as a JSON array", async () => {
    const { app } = appWith(async () => pageOf(BOOKS));
    const response = await app.request("/books");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.text()).toBe(
      '[{"id":1,"title":"One book","author":"John Doe","desc":""},{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]',
    );
  });

  test("without parameters asks for the first 100 books and sends no Link for a short page", async () => {
    const { app, asked } = numberedBooks(2);
    const response = await app.request("/books");
    expect(asked).toEqual([{ limit: 100, after: 0n }]);
    expect(response.headers.get("link")).toBeNull();
  });

  test("passes limit and after to the source and links a full page to the next, in canonical form", async () => {
    const { app, asked } = numberedBooks(50);
    const response = await app.request("/books?after=%3310&limit=5&utm_source=ignored");
    expect(asked).toEqual([{ limit: 5, after: 310n }]);
    expect(await response.json()).toEqual([]);
    expect(response.headers.get("link")).toBeNull();

    const full = await app.request("/books?limit=5&after=10");
    expect(((await full.json()) as Book[]).map((book) => book.id)).toEqual([11, 12, 13, 14, 15]);
    expect(full.headers.get("link")).toBe('</books?limit=5&after=15>; rel="next"');
  });

  test("a full last page still links onward, and the linked page is empty", async () => {
    const { app } = numberedBooks(10);
    const full = await app.request("/books?limit=5&after=5");
    expect(full.headers.get("link")).toBe('</books?limit=5&after=10>; rel="next"');
    const after = await app.request("/books?limit=5&after=10");
    expect(await after.text()).toBe("[]");
    expect(after.headers.get("link")).toBeNull();
  });

  test.each([
    ["limit=0", "limit", "from 1 to 1000"],
    ["limit=1001", "limit", "from 1 to 1000"],
    ["limit=-1", "limit", "from 1 to 1000"],
    ["limit=abc", "limit", "from 1 to 1000"],
    ["limit=1.5", "limit", "from 1 to 1000"],
    ["limit=", "limit", "from 1 to 1000"],
    ["limit=010", "limit", "from 1 to 1000"],
    ["limit=%2B5", "limit", "from 1 to 1000"],
    ["limit=1e2", "limit", "from 1 to 1000"],
    ["limit=%205", "limit", "from 1 to 1000"],
    ["limit=5&limit=6", "limit", "from 1 to 1000"],
    ["after=-1", "after", "from 0 to 9007199254740991"],
    ["after=abc", "after", "from 0 to 9007199254740991"],
    ["after=", "after", "from 0 to 9007199254740991"],
    ["after=9223372036854775808", "after", "from 0 to 9007199254740991"],
    ["after=99999999999999999999999999", "after", "from 0 to 9007199254740991"],
  ])("answers ?%s with 400 naming %s and its range, without reading books", async (search, name, range) => {
    const { app, asked } = numberedBooks(2);
    const response = await app.request(`/books?${search}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const body = (await response.json()) as { error: string };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toStartWith(`${name} must be`);
    expect(body.error).toContain(range);
    expect(asked).toEqual([]);
  });

  test("names every bad parameter at once", async () => {
    const { app } = numberedBooks(2);
    const body = (await (await app.request("/books?limit=0&after=x")).json()) as { error: string };
    expect(body.error).toContain("limit must be");
    expect(body.error).toContain("after must be");
  });

  test("accepts the largest cursor the contract allows", async () => {
    const { app, asked } = numberedBooks(2);
    expect((await app.request("/books?after=9007199254740991&limit=1000")).status).toBe(200);
    expect(asked).toEqual([{ limit: 1000, after: 9_007_199_254_740_991n }]);
  });

  test("a page the byte budget ended links onward from its last book", async () => {
    const { app } = appWith(async () => pageOf(BOOKS, true));
    const response = await app.request("/books?limit=1000");
    expect(((await response.json()) as Book[]).map((book) => book.id)).toEqual([1, 2]);
    expect(response.headers.get("link")).toBe('</books?limit=1000&after=2>; rel="next"');
  });

  test("an id JSON cannot carry exactly is a 500 naming the problem, logged as an error", async () => {
    const { app, lines } = appWith(async () => {
      throw new UnsendableIdError("9007199254740993");
    });
    const response = await app.request("/books");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "book id 9007199254740993 is above 2^53-1 (9007199254740991), the largest a JSON number carries exactly" });
    expect(lines.find((line) => line.level === "error")).toMatchObject({ id: "9007199254740993" });
  });

  test("a missing books table is a 503 like any outage, logged as an error", async () => {
    const cause = Object.assign(new Error('relation "books" does not exist'), { code: "42P01" });
    const { app, lines } = appWith(async () => {
      throw new DatabaseUnavailableError("listing books failed", { cause });
    });
    const response = await app.request("/books");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "database unavailable" });
    expect(lines.find((line) => line.level === "error")?.msg).toStartWith("books table missing");
  });

  test("answers an empty table as [] (never null)", async () => {
    const { app } = appWith(async () => pageOf([]));
    expect(await (await app.request("/books")).text()).toBe("[]");
  });

  test("answers 503 without internal detail when the database is unavailable, and logs the cause", async () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:5432"), { code: "ECONNREFUSED" });
    const { app, lines } = appWith(async () => {
      throw new DatabaseUnavailableError("listing books failed", { cause });
    });
    const response = await app.request("/books", { headers: { "X-Request-Id": "req-503" } });
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toEqual({ error: "database unavailable" });
    expect(response.headers.get("x-request-id")).toBe("req-503");
    const warning = lines.find((line) => line.msg === "books unavailable");
    expect(warning).toMatchObject({ level: "warn", request_id: "req-503" });
    expect(String(warning?.error)).toContain("ECONNREFUSED 10.1.2.3:5432");
  });

  test("answers 500 without detail for an error that is not the database's", async () => {
    const { app } = appWith(async () => {
      throw new TypeError("books.map is not a function");
    });
    const response = await app.request("/books");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "internal error" });
  });

  test("answers other methods with 405 JSON", async () => {
    const { app } = appWith(async () => pageOf(BOOKS));
    const response = await app.request("/books", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toStartWith("application/json");
  });

  test("writes one request log line per request, with the request id", async () => {
    const { app, lines } = appWith(async () => pageOf(BOOKS));
    await app.request("/books", { headers: { "X-Request-Id": "abc-123" } });
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ app: "storagesvc", request_id: "abc-123", path: "/books", status: 200 });
  });
});

import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { Readiness } from "../httpx/index.ts";
import { createStoragesvcApp } from "./app.ts";
import type { Book } from "./book.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import type { BookSource } from "./ready-books.ts";
import { captureLogger } from "../../tools/kit/capture-logger.ts";

const BOOKS: Book[] = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

function appWith(list: BookSource["list"]) {
  const { logger, lines } = captureLogger();
  const app = createStoragesvcApp({ books: { list }, logger, registry: new Registry(), readiness: new Readiness() });
  return { app, lines };
}

describe("GET /books", () => {
  test("answers 200 with the books as a JSON array", async () => {
    const { app } = appWith(async () => BOOKS);
    const response = await app.request("/books");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.text()).toBe(
      '[{"id":1,"title":"One book","author":"John Doe","desc":""},{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]',
    );
  });

  test("answers an empty table as [] (never null)", async () => {
    const { app } = appWith(async () => []);
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
    const { app } = appWith(async () => BOOKS);
    const response = await app.request("/books", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toStartWith("application/json");
  });

  test("writes one request log line per request, with the request id", async () => {
    const { app, lines } = appWith(async () => BOOKS);
    await app.request("/books", { headers: { "X-Request-Id": "abc-123" } });
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ app: "storagesvc", request_id: "abc-123", path: "/books", status: 200 });
  });
});

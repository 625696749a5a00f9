import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runCheckedPages, wrongPage } from "./checked-pages.ts";

const page = (after: number, limit: number) => Array.from({ length: limit }, (_, i) => ({ id: after + 1 + i, title: `t${i}`, author: "", desc: "" }));

describe("wrongPage", () => {
  test("the exact page is right", () => {
    expect(wrongPage(page(10, 3), 10, 3)).toBe("");
  });
  test("an empty answer for a page that has rows is wrong", () => {
    expect(wrongPage([], 10, 3)).toBe("0 books, expected 3");
  });
  test("another page's rows are wrong", () => {
    expect(wrongPage(page(11, 3), 10, 3)).toBe("book 0 has id 12, expected 11");
  });
  test("not a list, or a book without a title, is wrong", () => {
    expect(wrongPage({ error: "x" }, 0, 1)).toBe("not a list");
    expect(wrongPage([{ id: 1 }], 0, 1)).toBe("book 0 has no title");
  });
});

describe("runCheckedPages against a server", () => {
  // A books endpoint that answers every 7th request with an empty page and every 11th with 503.
  let server: ReturnType<typeof Bun.serve>;
  let calls = 0;
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const n = ++calls;
        const url = new URL(request.url);
        const after = Number(url.searchParams.get("after"));
        const limit = Number(url.searchParams.get("limit"));
        if (n % 11 === 0) return Response.json({ error: "down" }, { status: 503 });
        return Response.json(n % 7 === 0 ? [] : page(after, limit));
      },
    });
  });
  afterAll(() => server.stop(true));

  test("sends exactly the requests asked for and counts wrong answers apart from errors", async () => {
    const result = await runCheckedPages({
      baseUrl: `http://127.0.0.1:${server.port}`,
      clients: 4,
      requests: 77,
      bookCount: 100,
      timeoutMs: 5_000,
      signal: new AbortController().signal,
    });
    expect(result.records).toHaveLength(77);
    expect(result.records.filter((r) => r.outcome === "503")).toHaveLength(7);
    // 11 multiples of 7 in 1..77, of which 77 answered 503.
    expect(result.wrong).toBe(10);
    expect(result.records.filter((r) => r.books)).toHaveLength(77 - 7 - 10);
    expect(result.wrongExamples[0]).toMatch(/books, expected/);
  });
});

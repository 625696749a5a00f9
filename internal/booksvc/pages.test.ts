import { afterEach, describe, expect, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../../tools/kit/fake-upstream.ts";

// booksvc's pages against a fake storagesvc: canonical parameters upstream, Link in booksvc's own
// URL space, a last good answer per page, and answers that are not the page asked for refused.

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(env: Record<string, string> = {}): Promise<{ up: FakeUpstream; h: BooksvcHarness }> {
  const up = await startFakeUpstream();
  const h = startBooksvcInProcess({ STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: "combined", ...env });
  cleanups.push(() => up.close(), () => h.close());
  return { up, h };
}

const book = (id: number) => ({ id, title: `Book ${id}`, author: "A", desc: "" });
const books = (...ids: number[]) => ids.map(book);

describe("booksvc pages", () => {
  test("forwards limit and after in canonical form and links to the next page in its own URL space", async () => {
    const { up, h } = await setup();
    up.ok(books(6, 7));
    const r = await h.get("/?after=5&limit=2&utm=x");
    expect(r.response.status).toBe(200);
    expect(up.requests.at(-1)?.path).toBe("/books?limit=2&after=5");
    expect(r.response.headers.get("Link")).toBe('</?limit=2&after=7>; rel="next"');
    expect(JSON.parse(r.body)).toEqual(books(6, 7));
  });

  test("without parameters asks for the first page; a short page carries no Link", async () => {
    const { up, h } = await setup();
    up.ok(books(1, 2));
    const r = await h.get("/");
    expect(up.requests.at(-1)?.path).toBe("/books?limit=100&after=0");
    expect(r.response.headers.get("Link")).toBeNull();
  });

  test.each([
    ["/?limit=0", "limit"],
    ["/?limit=1001", "limit"],
    ["/?limit=abc", "limit"],
    ["/?after=-1", "after"],
    ["/?after=1.5", "after"],
    ["/?limit=1&limit=2", "limit"],
  ])("%s is 400 JSON naming %s, and never reaches storagesvc", async (path, name) => {
    const { up, h } = await setup();
    const r = await h.get(path);
    expect(r.response.status).toBe(400);
    expect(r.response.headers.get("Content-Type")).toStartWith("application/json");
    expect((JSON.parse(r.body) as { error: string }).error).toStartWith(`${name} must be`);
    expect(up.attempts).toBe(0);
  });

  test.each([
    ["more books than the limit", books(6, 7, 8)],
    ["a book not after the cursor", books(5, 6)],
    ["books out of order", books(7, 6)],
  ])("an answer with %s is not the page asked for: invalid, never served nor cached", async (_what, answer) => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" });
    up.ok(answer);
    const r = await h.get("/?limit=2&after=5");
    expect(r.response.status).toBe(502);
    await h.booksvc.lastGood.settled();
    expect(await h.booksvc.lastGood.read({ limit: 2, after: 5n })).toBeUndefined();
  });

  test("during an outage every page that was seen is served from its own last good answer, with its Link", async () => {
    const { up, h } = await setup();
    up.queue({ kind: "ok", books: books(1, 2) }, { kind: "ok", books: books(3, 4) }, { kind: "ok", books: books(5) });
    for (const path of ["/?limit=2", "/?limit=2&after=2", "/?limit=2&after=4"]) expect((await h.get(path)).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    up.status(503);
    const pages = [];
    for (const path of ["/?limit=2", "/?limit=2&after=2", "/?limit=2&after=4"]) {
      const r = await h.get(path);
      expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
      pages.push({ books: JSON.parse(r.body), link: r.response.headers.get("Link") });
    }
    expect(pages).toEqual([
      { books: books(1, 2), link: '</?limit=2&after=2>; rel="next"' },
      { books: books(3, 4), link: '</?limit=2&after=4>; rel="next"' },
      { books: books(5), link: null },
    ]);
    // A page never seen has nothing to fall back to.
    expect((await h.get("/?limit=2&after=6")).response.status).toBe(503);
  });

  test("a page storagesvc's byte budget ended early links after its last row, fresh and from the cache", async () => {
    const { up, h } = await setup();
    // Asked for 10, storagesvc sent 3 rows and its Link after the third (PAGE_MAX_BYTES).
    up.queue({ kind: "ok", books: books(6, 7, 8), link: '</books?limit=10&after=8>; rel="next"' });
    const fresh = await h.get("/?limit=10&after=5");
    expect(fresh.response.headers.get("Link")).toBe('</?limit=10&after=8>; rel="next"');
    await h.booksvc.lastGood.settled();
    up.status(503);
    const cached = await h.get("/?limit=10&after=5");
    expect(cached.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(cached.response.headers.get("Link")).toBe('</?limit=10&after=8>; rel="next"');
  });

  test("a full page without storagesvc's Link is the last one: no Link, fresh or from the cache", async () => {
    const { up, h } = await setup();
    up.queue({ kind: "ok", books: books(6, 7), link: null });
    expect((await h.get("/?limit=2&after=5")).response.headers.get("Link")).toBeNull();
    await h.booksvc.lastGood.settled();
    up.status(503);
    const cached = await h.get("/?limit=2&after=5");
    expect(cached.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(cached.response.headers.get("Link")).toBeNull();
  });

  test("a Link that does not start after the page's last book is not the page asked for", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" });
    up.queue({ kind: "ok", books: books(6, 7), link: '</books?limit=2&after=99>; rel="next"' });
    expect((await h.get("/?limit=2&after=5")).response.status).toBe(502);
  });

  test("a client walking through random pages cannot make the cache hold more than CACHE_MAX_PAGES", async () => {
    const { up, h } = await setup({ CACHE_MAX_PAGES: "5" });
    up.ok(books(1, 2));
    expect((await h.get("/")).response.status).toBe(200);
    up.ok([]);
    for (let after = 10; after < 60; after++) expect((await h.get(`/?after=${after}`)).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    up.status(503);
    let cached = 0;
    for (let after = 10; after < 60; after++) if ((await h.get(`/?after=${after}`)).response.status === 200) cached++;
    expect(cached).toBe(4);
    expect((await h.get("/")).response.headers.get("Cache-Status")).toBe("booksvc; hit"); // the first page stays
  });
});

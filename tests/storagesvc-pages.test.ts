import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres, { type Sql } from "postgres";
import { toBookList } from "../internal/booksvc/books.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { createEmptyBooksTable, seedBooks } from "../tools/kit/seed-books.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// storagesvc's pages, as a real process against the machine's PostgreSQL, each table in a database
// of its own.

// Processes and database creation take a while on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(60_000);

const LARGE_TABLE_ROWS = 30_000;

const stops: (() => Promise<unknown>)[] = [];
const databases: FreshDatabase[] = [];
const pools: Sql[] = [];

/** A fresh database; `prepare` runs on it before storagesvc first sees it. */
async function freshDatabase(prepare?: (sql: Sql) => Promise<void>): Promise<{ url: string; sql: Sql }> {
  const database = await createFreshDatabase("storagesvc_pages");
  databases.push(database);
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  pools.push(sql);
  await prepare?.(sql);
  return { url: database.url, sql };
}

/** Creates storagesvc's own table, then fills it with `rows` books (ids 1..rows). */
const tableOf = (rows: number) => async (sql: Sql) => {
  await createEmptyBooksTable(sql);
  await seedBooks(sql, rows);
};

async function startService(databaseUrl: string): Promise<ServiceProcess> {
  const service = await startStoragesvcProcess(databaseUrl, (stop) => stops.push(stop), { DB_POOL_MAX: "4", LOG_LEVEL: "warn" });
  await service.waitFor("/readyz", 200);
  return service;
}

interface Page {
  status: number;
  ids: number[];
  next: string | undefined;
}

async function getPage(service: ServiceProcess, path: string): Promise<Page> {
  const response = await fetch(service.url + path);
  const books = toBookList(await response.json());
  if (books === undefined) throw new Error(`${path} did not answer a valid book list`);
  const link = response.headers.get("link");
  const next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
  if (link !== null && next === undefined) throw new Error(`malformed Link: ${link}`);
  return { status: response.status, ids: books.map((book) => book.id), next };
}

/** Follows `Link` from `path` to the end; `between` runs after each page. Every page's ids, in order. */
async function followLinks(service: ServiceProcess, path: string, between?: (page: Page) => Promise<void>): Promise<number[][]> {
  const pages: number[][] = [];
  for (let next: string | undefined = path; next !== undefined; ) {
    const page = await getPage(service, next);
    expect(page.status).toBe(200);
    pages.push(page.ids);
    await between?.(page);
    next = page.next;
  }
  return pages;
}

afterAll(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await Promise.all(pools.splice(0).map((sql) => sql.end({ timeout: 1 })));
  await Promise.all(databases.splice(0).map((database) => database.drop()));
});

describe("storagesvc pages on the article's two books", () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await startService((await freshDatabase()).url);
  });

  test("without parameters answers exactly today's bytes, with no Link", async () => {
    const response = await fetch(`${service.url}/books`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(response.headers.get("link")).toBeNull();
    expect(await response.text()).toBe(
      '[{"id":1,"title":"One book","author":"John Doe","desc":""},{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]',
    );
  });

  test.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=-1", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["after=-1", "after"],
    ["after=abc", "after"],
    ["after=9223372036854775808", "after"],
    ["after=123456789012345678901234567890", "after"],
  ])("answers ?%s with 400 JSON naming %s", async (search, name) => {
    const response = await fetch(`${service.url}/books?${search}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const body = (await response.json()) as { error: string };
    expect(body).toEqual({ error: expect.stringMatching(new RegExp(`^${name} must be one decimal integer from \\d+ to \\d+`)) });
  });
});

describe(`storagesvc pages on a table of ${LARGE_TABLE_ROWS} books`, () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await startService((await freshDatabase(tableOf(LARGE_TABLE_ROWS))).url);
  });

  test("without parameters answers the first 100 books and links to the next 100", async () => {
    const first = await getPage(service, "/books");
    expect(first.ids).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(first.next).toBe("/books?limit=100&after=100");
  });

  test("following Link from the first page covers every book exactly once, in id order", async () => {
    const pages = await followLinks(service, "/books?limit=1000");
    // 30 full pages, then the empty page the last full one links to.
    expect(pages.map((ids) => ids.length)).toEqual([...Array<number>(30).fill(1000), 0]);
    expect(pages.flat()).toEqual(Array.from({ length: LARGE_TABLE_ROWS }, (_, i) => i + 1));
  });

  test("a deep page starts right after its cursor", async () => {
    const deep = await getPage(service, "/books?after=29990&limit=20");
    expect(deep.ids).toEqual(Array.from({ length: 10 }, (_, i) => 29_991 + i));
    expect(deep.next).toBeUndefined();
  });
});

test("books inserted anywhere while a client pages neither repeat nor hide the books that were there", async () => {
  // Even ids only, so odd ids can be inserted behind and ahead of the client's cursor. An offset
  // pager would see the rows behind it shift and answer some books twice.
  const rows = 20_000;
  const { url, sql } = await freshDatabase(async (sql) => {
    await createEmptyBooksTable(sql);
    await sql`insert into books (id, title, author) select 2 * n, 'Book ' || n, 'A' from generate_series(1, ${rows}::int) as n`;
  });
  const service = await startService(url);
  let batch = 0;
  const pages = await followLinks(service, "/books?limit=500", async () => {
    // 50 new books spread over the whole id range, from another connection, before the next page.
    batch++;
    await sql`
      insert into books (id, title, author)
      select 2 * ((n * 7919 + ${batch} * 104729) % ${rows}::int) + 1, 'Late', 'B' from generate_series(1, 50) as n
      on conflict (id) do nothing`;
  });
  const seen = pages.flat();
  const evens = seen.filter((id) => id % 2 === 0);
  expect(evens).toEqual(Array.from({ length: rows }, (_, i) => 2 * (i + 1)));
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual(seen.toSorted((a, b) => a - b));
  // The inserts did happen during the paging: books added ahead of the cursor were served.
  expect(seen.length).toBeGreaterThan(rows);
});

test("a books table made elsewhere with a NULL author is served with \"\" as a valid book list", async () => {
  const { url } = await freshDatabase(async (sql) => {
    await sql`create table books (id serial primary key, title text, author text, "desc" text)`;
    await sql`insert into books (title, author, "desc") values ('Anonymous', null, null), ('Signed', 'Someone', 'x')`;
  });
  const service = await startService(url);
  const response = await fetch(`${service.url}/books`);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text).toBe('[{"id":1,"title":"Anonymous","author":"","desc":""},{"id":2,"title":"Signed","author":"Someone","desc":"x"}]');
  expect(toBookList(JSON.parse(text))).toHaveLength(2);
});

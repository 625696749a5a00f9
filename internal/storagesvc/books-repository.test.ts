import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "postgres";
import { databasePerTest } from "../../tools/kit/database-per-test.ts";
import { createFreshDatabase, type FreshDatabase } from "../../tools/kit/postgres.ts";
import { createEmptyBooksTable, seedBooks } from "../../tools/kit/seed-books.ts";
import type { BookPage } from "./book.ts";
import { UnsendableIdError } from "./book-id.ts";
import { BOOKS_PAGE_SQL, createBooksRepository } from "./books-repository.ts";
import { DatabaseUnavailableError, isUndefinedTable } from "./database-error.ts";
import { connectDatabase } from "./database.ts";

// Creating and dropping a database takes seconds on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(30_000);

/** The largest page: every test table here but the plan test's fits in it. */
const ALL = { limit: 1000, after: 0n };

const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

/** The budget of most tests here: the default's. */
const BUDGET = 524_288;

/** The exact bytes `GET /books` sends for `books`. */
const bodyBytes = (books: unknown[]) => Buffer.byteLength(JSON.stringify(books));

describe("BooksRepository on PostgreSQL", () => {
  const fresh = databasePerTest("storagesvc_repo");
  const pool = fresh.pool;
  /** The repository over storagesvc's own empty table, and the pool it uses. */
  async function emptyTable(pageMaxBytes = BUDGET) {
    const sql = pool();
    await createEmptyBooksTable(sql);
    return { sql, books: createBooksRepository(sql, { pageMaxBytes }) };
  }
  const ids = (page: BookPage) => page.books.map((book) => book.id);


  test("page returns every book ordered by id when they fit", async () => {
    const { sql, books } = await emptyTable();
    await sql`insert into books (id, title, author, "desc") values (3, 'C', 'c', 'third'), (1, 'A', 'a', ''), (2, 'B', 'b', 'x')`;
    const page = await books.page(ALL);
    expect(page.json).toBe(JSON.stringify(page.books));
    expect(page).toMatchObject({
      books: [
        { id: 1, title: "A", author: "a", desc: "" },
        { id: 2, title: "B", author: "b", desc: "x" },
        { id: 3, title: "C", author: "c", desc: "third" },
      ],
      cutShort: false,
    });
  });

  test("page returns at most limit books whose id is greater than after, in id order", async () => {
    const { sql, books } = await emptyTable();
    await sql`insert into books (id, title, author) select n, 'B' || n, 'a' from unnest(array[2, 3, 5, 7, 11, 13, 17]) as n`;
    const idsOf = async (limit: number, after: bigint) => ids(await books.page({ limit, after }));
    expect(await idsOf(3, 0n)).toEqual([2, 3, 5]);
    expect(await idsOf(3, 5n)).toEqual([7, 11, 13]);
    expect(await idsOf(3, 6n)).toEqual([7, 11, 13]);
    expect(await idsOf(3, 13n)).toEqual([17]);
    expect(await idsOf(1000, 17n)).toEqual([]);
  });

  test("the byte budget ends the page before the book that would pass it, and says it was cut", async () => {
    const { sql } = await emptyTable();
    await sql`insert into books (title, author, "desc") select 'Book ' || n, 'A', repeat('x', 1000) from generate_series(1, 50) as n`;
    const all = (await createBooksRepository(sql, { pageMaxBytes: BUDGET }).page(ALL)).books;
    // Budgets exactly at the size of the first k books' answer, and one byte below it.
    for (const k of [1, 2, 7, 49]) {
      const exact = bodyBytes(all.slice(0, k));
      const atSize = await createBooksRepository(sql, { pageMaxBytes: exact }).page(ALL);
      expect(ids(atSize)).toEqual(all.slice(0, k).map((book) => book.id));
      expect(atSize.cutShort).toBe(true);
      const below = await createBooksRepository(sql, { pageMaxBytes: exact - 1 }).page(ALL);
      expect(below.books).toHaveLength(Math.max(1, k - 1));
      expect(below.cutShort).toBe(true);
    }
    // All fifty fit exactly: nothing was left out.
    expect(await createBooksRepository(sql, { pageMaxBytes: bodyBytes(all) }).page(ALL)).toMatchObject({ books: all, cutShort: false });
  });

  test("a book larger than the budget is sent alone, and the page says more may follow", async () => {
    const { sql, books } = await emptyTable(1024);
    await sql`insert into books (title, author, "desc") values ('Huge', 'A', repeat('y', 5000)), ('Small', 'B', '')`;
    const first = await books.page(ALL);
    expect(first.books.map((book) => [book.id, book.desc.length])).toEqual([[1, 5000]]);
    expect(first.cutShort).toBe(true);
    expect(await books.page({ limit: 1000, after: 1n })).toMatchObject({ books: [{ id: 2, title: "Small", author: "B", desc: "" }], cutShort: false });
    // A lone book on a page of one is a full page, not a cut one.
    expect((await books.page({ limit: 1000, after: 1n })).cutShort).toBe(false);
    expect(await createBooksRepository(sql, { pageMaxBytes: 1024 }).page({ limit: 1, after: 0n })).toMatchObject({ cutShort: false });
  });

  test("the budget counts bytes as JSON sends them: escapes, multi-byte characters, long ids", async () => {
    const sql = pool();
    await sql`create table books (id bigserial primary key, title text, author text, "desc" text)`;
    await sql`insert into books (id, title, author, "desc") values
      (1, 'quote" back\\slash', E'tab\tnewline\nbell\x07', 'ünïcödé € 😀'),
      (9007199254740990, 'B', null, E'\x01\x1f'),
      (9007199254740991, 'C', 'c', '')`;
    const all = (await createBooksRepository(sql, { pageMaxBytes: BUDGET }).page(ALL)).books;
    expect(all.map((book) => book.id)).toEqual([1, 9_007_199_254_740_990, 9_007_199_254_740_991]);
    expect(all[0]?.author).toBe("tab\tnewline\nbell\x07");
    for (const k of [1, 2, 3]) {
      const exact = bodyBytes(all.slice(0, k));
      expect((await createBooksRepository(sql, { pageMaxBytes: exact }).page(ALL)).books).toHaveLength(k);
      expect((await createBooksRepository(sql, { pageMaxBytes: exact - 1 }).page(ALL)).books).toHaveLength(Math.max(1, k - 1));
    }
  });

  test("a bigserial table's ids are JSON numbers; an id above 2^53-1 fails its page, naming it", async () => {
    const sql = pool();
    await sql`create table books (id bigserial primary key, title text not null, author text not null, "desc" text not null default '')`;
    await sql`insert into books (title, author) values ('One book', 'John Doe'), ('Second book', 'Jane Doe')`;
    const books = createBooksRepository(sql, { pageMaxBytes: BUDGET });
    const page = await books.page(ALL);
    expect(page.books).toEqual(ARTICLE_BOOKS);
    expect(JSON.stringify(page.books)).toBe(JSON.stringify(ARTICLE_BOOKS));

    await sql`insert into books (id, title, author) values (9007199254740993, 'Far', 'F')`;
    const error = await books.page(ALL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsendableIdError);
    expect((error as Error).message).toContain("9007199254740993");
    // Pages before it are still served.
    expect(ids(await books.page({ limit: 2, after: 0n }))).toEqual([1, 2]);
  });

  test("a cursor beyond the id column's integer range answers no books instead of failing", async () => {
    const { books } = await emptyTable();
    expect(await books.page({ limit: 10, after: 2_147_483_648n })).toEqual({ books: [], json: "[]", cutShort: false });
    expect(await books.page({ limit: 10, after: 9_007_199_254_740_991n })).toEqual({ books: [], json: "[]", cutShort: false });
  });

  test("a books table made elsewhere with nullable text columns: NULL is read as an empty string", async () => {
    const sql = pool();
    await sql`create table books (id serial primary key, title text, author text, "desc" text)`;
    await sql`insert into books (title, author, "desc") values ('Anonymous', null, null), (null, 'Someone', 'x')`;
    expect((await createBooksRepository(sql, { pageMaxBytes: BUDGET }).page(ALL)).books).toEqual([
      { id: 1, title: "Anonymous", author: "", desc: "" },
      { id: 2, title: "", author: "Someone", desc: "x" },
    ]);
  });

  test("page without the table fails as DatabaseUnavailableError recognisable as a missing table", async () => {
    const error = await createBooksRepository(pool(), { pageMaxBytes: BUDGET }).page(ALL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(isUndefinedTable(error)).toBe(true);
  });
});

/** A plan node of `explain (format json)`, with only the fields the plan test reads. */
interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Scan Direction"?: string;
  "Actual Rows"?: number;
  Plans?: PlanNode[];
}

/** Every node of the plan in the rows an `explain (format json)` answered, from the top down. */
function planNodes(rows: readonly unknown[]): PlanNode[] {
  const [row] = rows as { "QUERY PLAN": { Plan: PlanNode }[] }[];
  const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
  return flatten(row!["QUERY PLAN"][0]!.Plan);
}

describe("BooksRepository page query plan", () => {
  let database: FreshDatabase;
  let sql: Sql;
  beforeAll(async () => {
    database = await createFreshDatabase("storagesvc_plan");
    sql = connectDatabase({ url: database.url, poolMax: 1 });
    await createEmptyBooksTable(sql);
    await seedBooks(sql, 50_000);
  });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
    await database.drop();
  });

  /** The plan PostgreSQL picks for BOOKS_PAGE_SQL, as a flat list of nodes from the top. */
  async function planOf(parameters: [string, number]): Promise<PlanNode[]> {
    return planNodes(await sql.unsafe(`explain (format json) ${BOOKS_PAGE_SQL}`, [...parameters, BUDGET]));
  }

  /**
   * A limit over a forward walk of the primary key's index, with only the byte budget's running
   * sum (a window aggregate over rows already in id order) above it: no sequential scan, no sort.
   * The two `Result` nodes are the init plans that hand `after` and `limit` to the plan.
   */
  function expectIndexWalk(nodes: PlanNode[]): void {
    expect(nodes.map((node) => node["Node Type"])).toEqual(["Subquery Scan", "WindowAgg", "Limit", "Result", "Result", "Index Scan"]);
    expect(nodes[5]).toMatchObject({ "Index Name": "books_pkey", "Scan Direction": "Forward" });
  }

  test.each([
    ["the first page", "0", 100],
    ["a deep page", "45000", 100],
    ["the largest page", "0", 1000],
  ] as const)("%s walks the primary key's index on a table of 50,000 books", async (_, after, limit) => {
    expectIndexWalk(await planOf([after, limit]));
  });

  test("the generic plan of the prepared statement walks the index too", async () => {
    // postgres.js prepares the statement; after five runs PostgreSQL may switch to a plan made
    // without the parameters' values. Forcing that plan shows it is the index walk as well.
    const nodes = await sql.begin(async (tx) => {
      await tx`set local plan_cache_mode = force_generic_plan`;
      await tx.unsafe(`prepare books_page as ${BOOKS_PAGE_SQL}`);
      const explained = await tx.unsafe(`explain (format json) execute books_page('45000', 100, ${BUDGET})`);
      await tx.unsafe("deallocate books_page");
      return planNodes(explained);
    });
    expectIndexWalk(nodes);
  });

  test("the prepared statement settles on its generic plan instead of being planned on every run", async () => {
    // One connection, so the statement and its counters are those of the same session.
    const books = createBooksRepository(sql, { pageMaxBytes: BUDGET });
    for (let run = 0; run < 20; run++) await books.page({ limit: 100, after: BigInt(run * 1000) });
    const [counts] = await sql<{ generic: number; custom: number }[]>`
      select generic_plans::int as generic, custom_plans::int as custom
      from pg_prepared_statements where statement = ${BOOKS_PAGE_SQL}`;
    // PostgreSQL tries five custom plans, then keeps the generic one when it is no dearer.
    expect(counts).toEqual({ generic: 15, custom: 5 });
  });

  test("a deep page reads only its own rows from the table", async () => {
    const nodes = planNodes(await sql.unsafe(`explain (analyze, format json) ${BOOKS_PAGE_SQL}`, ["45000", 100, BUDGET]));
    expect(nodes.map((node) => [node["Node Type"], node["Actual Rows"]])).toEqual([
      ["Subquery Scan", 100],
      ["WindowAgg", 100],
      ["Limit", 100],
      ["Result", 1],
      ["Result", 1],
      ["Index Scan", 100],
    ]);
  });
});

describe("BooksRepository with the database unreachable", () => {
  let sql: Sql;
  beforeAll(() => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    sql = connectDatabase({ url: "postgres://postgres:secret@127.0.0.1:1/none", poolMax: 2 });
  });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
  });

  test("page fails as DatabaseUnavailableError with the driver error as cause", async () => {
    const error = await createBooksRepository(sql, { pageMaxBytes: BUDGET }).page(ALL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(isUndefinedTable(error)).toBe(false);
  });
});

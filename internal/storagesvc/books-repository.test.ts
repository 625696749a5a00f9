import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "postgres";
import { createFreshDatabase, type FreshDatabase } from "../../tools/kit/postgres.ts";
import { seedBooks } from "../../tools/kit/seed-books.ts";
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

describe("BooksRepository on PostgreSQL", () => {
  let database: FreshDatabase;
  const pools: Sql[] = [];
  const pool = (max = 4): Sql => {
    const sql = connectDatabase({ url: database.url, poolMax: max });
    pools.push(sql);
    return sql;
  };

  beforeEach(async () => {
    database = await createFreshDatabase("storagesvc_repo");
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((sql) => sql.end({ timeout: 1 })));
    await database.drop();
  });

  test("migrate creates the books table with a quoted desc column, and running it again changes nothing", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    await books.migrate();
    const columns = await pool()`
      select column_name, data_type, is_nullable, column_default
      from information_schema.columns where table_name = 'books' order by ordinal_position`;
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["id", "integer", "NO"],
      ["title", "text", "NO"],
      ["author", "text", "NO"],
      ["desc", "text", "NO"],
    ]);
    expect(await books.page(ALL)).toEqual([]);
  });

  test("replicas migrating at the same moment all succeed", async () => {
    const replicas = Array.from({ length: 4 }, () => createBooksRepository(pool(1)));
    await Promise.all(replicas.map((books) => books.migrate()));
    expect(await replicas[0]!.page(ALL)).toEqual([]);
  });

  test("seedIfEmpty inserts exactly the article's two books into an empty table", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    expect(await books.seedIfEmpty()).toBe(2);
    expect([...(await books.page(ALL))]).toEqual(ARTICLE_BOOKS);
  });

  test("seeding a second time adds nothing", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    await books.seedIfEmpty();
    expect(await books.seedIfEmpty()).toBe(0);
    expect(await books.page(ALL)).toHaveLength(2);
  });

  test("seedIfEmpty leaves a table that already has rows alone, even without the article's books", async () => {
    const sql = pool();
    const books = createBooksRepository(sql);
    await books.migrate();
    await sql`insert into books (title, author) values ('Mine', 'Me')`;
    expect(await books.seedIfEmpty()).toBe(0);
    expect([...(await books.page(ALL))]).toEqual([{ id: 1, title: "Mine", author: "Me", desc: "" }]);
  });

  test("replicas seeding at the same moment add two books in total", async () => {
    const replicas = Array.from({ length: 6 }, () => createBooksRepository(pool(1)));
    await replicas[0]!.migrate();
    const added = await Promise.all(replicas.map((books) => books.seedIfEmpty()));
    expect(added.reduce((a, b) => a + b, 0)).toBe(2);
    expect([...(await replicas[0]!.page(ALL))]).toEqual(ARTICLE_BOOKS);
  });

  test("page returns every book ordered by id when they fit", async () => {
    const sql = pool();
    const books = createBooksRepository(sql);
    await books.migrate();
    await sql`insert into books (id, title, author, "desc") values (3, 'C', 'c', 'third'), (1, 'A', 'a', ''), (2, 'B', 'b', 'x')`;
    expect((await books.page(ALL)).map((book) => book.id)).toEqual([1, 2, 3]);
    expect((await books.page(ALL))[0]).toEqual({ id: 1, title: "A", author: "a", desc: "" });
  });

  test("ping resolves while the database answers", async () => {
    await createBooksRepository(pool()).ping();
  });

  test("page returns at most limit books whose id is greater than after, in id order", async () => {
    const sql = pool();
    const books = createBooksRepository(sql);
    await books.migrate();
    await sql`insert into books (id, title, author) select n, 'B' || n, 'a' from unnest(array[2, 3, 5, 7, 11, 13, 17]) as n`;
    const ids = async (limit: number, after: bigint) => (await books.page({ limit, after })).map((book) => book.id);
    expect(await ids(3, 0n)).toEqual([2, 3, 5]);
    expect(await ids(3, 5n)).toEqual([7, 11, 13]);
    expect(await ids(3, 6n)).toEqual([7, 11, 13]);
    expect(await ids(3, 13n)).toEqual([17]);
    expect(await ids(1000, 17n)).toEqual([]);
  });

  test("a cursor beyond the id column's integer range answers no books instead of failing", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    await books.seedIfEmpty();
    expect(await books.page({ limit: 10, after: 2_147_483_648n })).toEqual([]);
    expect(await books.page({ limit: 10, after: 9_223_372_036_854_775_807n })).toEqual([]);
  });

  test("a books table made elsewhere with nullable text columns: NULL is read as an empty string", async () => {
    const sql = pool();
    await sql`create table books (id serial primary key, title text, author text, "desc" text)`;
    await sql`insert into books (title, author, "desc") values ('Anonymous', null, null), (null, 'Someone', 'x')`;
    const books = createBooksRepository(sql);
    await books.migrate();
    expect(await books.seedIfEmpty()).toBe(0);
    expect([...(await books.page(ALL))]).toEqual([
      { id: 1, title: "Anonymous", author: "", desc: "" },
      { id: 2, title: "", author: "Someone", desc: "x" },
    ]);
  });

  test("page before migrate fails as DatabaseUnavailableError recognisable as a missing table", async () => {
    const error = await createBooksRepository(pool()).page(ALL).catch((e: unknown) => e);
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
    await createBooksRepository(sql).migrate();
    await seedBooks(sql, 50_000);
  });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
    await database.drop();
  });

  /** The plan PostgreSQL picks for BOOKS_PAGE_SQL, as a flat list of nodes from the top. */
  async function planOf(parameters: [string, number]): Promise<PlanNode[]> {
    return planNodes(await sql.unsafe(`explain (format json) ${BOOKS_PAGE_SQL}`, parameters));
  }

  /** A limit over a forward walk of the primary key's index: no sequential scan, no sort. */
  function expectIndexWalk(nodes: PlanNode[]): void {
    expect(nodes.map((node) => node["Node Type"])).toEqual(["Limit", "Index Scan"]);
    expect(nodes[1]).toMatchObject({ "Index Name": "books_pkey", "Scan Direction": "Forward" });
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
      const explained = await tx.unsafe("explain (format json) execute books_page('45000', 100)");
      await tx.unsafe("deallocate books_page");
      return planNodes(explained);
    });
    expectIndexWalk(nodes);
  });

  test("a deep page reads only its own rows from the table", async () => {
    const nodes = planNodes(await sql.unsafe(`explain (analyze, format json) ${BOOKS_PAGE_SQL}`, ["45000", 100]));
    expect(nodes.map((node) => [node["Node Type"], node["Actual Rows"]])).toEqual([
      ["Limit", 100],
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

  test.each(["migrate", "seedIfEmpty", "page", "ping"] as const)("%s fails as DatabaseUnavailableError with the driver error as cause", async (method) => {
    const error = await createBooksRepository(sql)[method](ALL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(isUndefinedTable(error)).toBe(false);
  });
});

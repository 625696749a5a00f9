import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "postgres";
import { createFreshDatabase, type FreshDatabase } from "../../tools/kit/postgres.ts";
import { createBooksRepository } from "./books-repository.ts";
import { DatabaseUnavailableError, isUndefinedTable } from "./database-error.ts";
import { connectDatabase } from "./database.ts";

// Creating and dropping a database takes seconds on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(30_000);

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
    expect(await books.list()).toEqual([]);
  });

  test("replicas migrating at the same moment all succeed", async () => {
    const replicas = Array.from({ length: 4 }, () => createBooksRepository(pool(1)));
    await Promise.all(replicas.map((books) => books.migrate()));
    expect(await replicas[0]!.list()).toEqual([]);
  });

  test("seedIfEmpty inserts exactly the article's two books into an empty table", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    expect(await books.seedIfEmpty()).toBe(2);
    expect([...(await books.list())]).toEqual(ARTICLE_BOOKS);
  });

  test("seeding a second time adds nothing", async () => {
    const books = createBooksRepository(pool());
    await books.migrate();
    await books.seedIfEmpty();
    expect(await books.seedIfEmpty()).toBe(0);
    expect(await books.list()).toHaveLength(2);
  });

  test("seedIfEmpty leaves a table that already has rows alone, even without the article's books", async () => {
    const sql = pool();
    const books = createBooksRepository(sql);
    await books.migrate();
    await sql`insert into books (title, author) values ('Mine', 'Me')`;
    expect(await books.seedIfEmpty()).toBe(0);
    expect([...(await books.list())]).toEqual([{ id: 1, title: "Mine", author: "Me", desc: "" }]);
  });

  test("replicas seeding at the same moment add two books in total", async () => {
    const replicas = Array.from({ length: 6 }, () => createBooksRepository(pool(1)));
    await replicas[0]!.migrate();
    const added = await Promise.all(replicas.map((books) => books.seedIfEmpty()));
    expect(added.reduce((a, b) => a + b, 0)).toBe(2);
    expect([...(await replicas[0]!.list())]).toEqual(ARTICLE_BOOKS);
  });

  test("list returns every book ordered by id", async () => {
    const sql = pool();
    const books = createBooksRepository(sql);
    await books.migrate();
    await sql`insert into books (id, title, author, "desc") values (3, 'C', 'c', 'third'), (1, 'A', 'a', ''), (2, 'B', 'b', 'x')`;
    expect((await books.list()).map((book) => book.id)).toEqual([1, 2, 3]);
    expect((await books.list())[0]).toEqual({ id: 1, title: "A", author: "a", desc: "" });
  });

  test("ping resolves while the database answers", async () => {
    await createBooksRepository(pool()).ping();
  });

  test("list before migrate fails as DatabaseUnavailableError recognisable as a missing table", async () => {
    const error = await createBooksRepository(pool()).list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(isUndefinedTable(error)).toBe(true);
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

  test.each(["migrate", "seedIfEmpty", "list", "ping"] as const)("%s fails as DatabaseUnavailableError with the driver error as cause", async (method) => {
    const error = await createBooksRepository(sql)[method]().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(isUndefinedTable(error)).toBe(false);
  });
});

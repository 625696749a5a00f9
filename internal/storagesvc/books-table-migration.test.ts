import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "postgres";
import { databasePerTest } from "../../tools/kit/database-per-test.ts";
import { migrateBooksTable, migrateOnFreshConnection } from "./books-table-migration.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { connectDatabase } from "./database.ts";

// Creating and dropping a database takes seconds on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(30_000);

const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

describe("migrateBooksTable on PostgreSQL", () => {
  const fresh = databasePerTest("bookstore_migrate");
  const pool = fresh.pool;
  const books = (sql: Sql) => sql`select id, title, author, "desc" from books order by id`.then((rows) => [...rows]);


  test("creates the table with a quoted desc column and the article's two books; a second run changes nothing", async () => {
    const sql = pool();
    expect(await migrateBooksTable(sql)).toBe("created");
    expect(await migrateBooksTable(sql)).toBe("present");
    const columns = await sql`
      select column_name, data_type, is_nullable
      from information_schema.columns where table_name = 'books' order by ordinal_position`;
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["id", "integer", "NO"],
      ["title", "text", "NO"],
      ["author", "text", "NO"],
      ["desc", "text", "NO"],
    ]);
    expect(await books(sql)).toEqual(ARTICLE_BOOKS);
  });

  test("an existing empty table is left empty: books are seeded only by the transaction that creates the table", async () => {
    const sql = pool();
    await sql`create table books (id bigserial primary key, title text, author text, "desc" text)`;
    expect(await migrateBooksTable(sql)).toBe("present");
    expect(await books(sql)).toEqual([]);
  });

  test("a table with rows is left exactly as it was", async () => {
    const sql = pool();
    await sql`create table books (id serial primary key, title text not null, author text not null, "desc" text not null default '')`;
    await sql`insert into books (title, author) values ('Mine', 'Me')`;
    expect(await migrateBooksTable(sql)).toBe("present");
    expect(await books(sql)).toEqual([{ id: 1, title: "Mine", author: "Me", desc: "" }]);
  });

  test("replicas migrating at the same moment: one creates, two books in total", async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => migrateBooksTable(pool(1))));
    expect(outcomes.toSorted()).toEqual(["created", "present", "present", "present", "present", "present"]);
    expect(await books(pool())).toEqual(ARTICLE_BOOKS);
  });

  test("a read-only database with the table passes; without it, the DDL is refused", async () => {
    await fresh.alterDatabase("set default_transaction_read_only = on");
    const error = await migrateBooksTable(pool(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: "25006" }); // read_only_sql_transaction
    await fresh.alterDatabase("reset default_transaction_read_only");
    expect(await migrateBooksTable(pool(1))).toBe("created");
    await fresh.alterDatabase("set default_transaction_read_only = on");
    expect(await migrateBooksTable(pool(1))).toBe("present");
  });

  test("after a read-only setting is lifted, a pooled connection still refuses the DDL; a fresh connection per attempt does not", async () => {
    await fresh.alterDatabase("set default_transaction_read_only = on");
    const pooled = pool(1);
    await expect(migrateBooksTable(pooled)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await fresh.alterDatabase("reset default_transaction_read_only");
    // The pooled connection keeps the session setting it started with (why storagesvc used to need a restart).
    await expect(migrateBooksTable(pooled)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(await migrateOnFreshConnection(() => connectDatabase({ url: fresh.database.url, poolMax: 1 }))).toBe("created");
  });
});

describe("migrateBooksTable with the database unreachable", () => {
  test("fails as DatabaseUnavailableError with the driver error as cause", async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const open = () => connectDatabase({ url: "postgres://postgres@127.0.0.1:1/none", poolMax: 1 });
    const error = await migrateOnFreshConnection(open).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
  });
});

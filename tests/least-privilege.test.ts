import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { migrateBooksTable } from "../internal/storagesvc/books-table-migration.ts";
import { PgCluster } from "../tools/kit/pg-cluster.ts";
import { REPO_ROOT } from "../tools/kit/service-process.ts";

// deploy/postgres/initdb/10-books-reader.sql, run the way the postgres image runs its init scripts
// (psql -v ON_ERROR_STOP=1 as the owner on the new database), on a throwaway cluster; then the
// migration as the owner, then what books_reader may and may not do.
setDefaultTimeout(60_000);

const SCRIPT = join(REPO_ROOT, "deploy/postgres/initdb/10-books-reader.sql");

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await PgCluster.create();
  await cluster.start();
  const admin = postgres(cluster.url(), { max: 1, onnotice: () => {} });
  await admin`create database crud`;
  await admin.end();
});
afterAll(async () => {
  await cluster.destroy();
});

async function runInitScript(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const child = Bun.spawn(
    ["psql", "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "-d", "crud", "-f", SCRIPT],
    { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" },
  );
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  return { code, stderr };
}

const errorCode = async (query: Promise<unknown>) => ((await query.then(() => undefined, (e: unknown) => e)) as { code?: string } | undefined)?.code;

describe("books_reader, from the init script", () => {
  let reader: Sql;
  beforeAll(async () => {
    expect(await runInitScript({})).toMatchObject({ code: 3, stderr: expect.stringContaining("BOOKS_READER_PASSWORD is not set") });
    expect(await runInitScript({ BOOKS_READER_PASSWORD: "local-only" })).toEqual({ code: 0, stderr: "" });
    // The migration, as the owner (what `storagesvc migrate` runs), after the role exists.
    const owner = postgres(cluster.url("crud"), { max: 1, onnotice: () => {} });
    await migrateBooksTable(owner);
    await owner.end();
    reader = postgres(`postgres://books_reader@127.0.0.1:${cluster.port}/crud`, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await reader.end({ timeout: 1 });
  });

  test("reads the books the owner's migration created after the role", async () => {
    const rows = await reader`select title from books order by id`;
    expect(rows.map((r) => r.title)).toEqual(["One book", "Second book"]);
  });

  test("is no superuser and may not write, alter, create tables or temporary tables", async () => {
    expect((await reader`select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user`)[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
    });
    const denied = "42501"; // insufficient_privilege
    expect(await errorCode(reader`insert into books (title, author) values ('x', 'y')`)).toBe(denied);
    expect(await errorCode(reader`delete from books`)).toBe(denied);
    expect(await errorCode(reader`alter table books add column n int`)).toBe(denied);
    expect(await errorCode(reader`create table mine (n int)`)).toBe(denied);
    expect(await errorCode(reader`create temporary table mine (n int)`)).toBe(denied);
    expect(await errorCode(reader`select nextval('books_id_seq')`)).toBe(denied);
  });

  test("PUBLIC may no longer connect to the database; books_reader may", async () => {
    const [row] = await reader<{ acl: string }[]>`select datacl::text as acl from pg_database where datname = current_database()`;
    expect(row?.acl).not.toMatch(/[{,]=/); // no PUBLIC entry (`=Tc/owner`)
    expect(row?.acl).toContain("books_reader=c/");
  });
});

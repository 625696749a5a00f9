import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres, { type Sql } from "postgres";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { runScript } from "../tools/kit/run-script.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// The books table as the real storagesvc process sees it: created and seeded only at start (or by
// `storagesvc migrate`), never again while running; a table that vanishes is an outage; ids as
// JSON numbers. Each test has a database of its own on the machine's PostgreSQL.

setDefaultTimeout(60_000);

const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];
const OUR_BOOKS = [
  { id: 1, title: "Real one", author: "R", desc: "" },
  { id: 2, title: "Real two", author: "R", desc: "" },
  { id: 3, title: "Real three", author: "R", desc: "" },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A database of its own, and a pool on it for the test's own statements. */
async function freshDatabase(): Promise<{ database: FreshDatabase; sql: Sql }> {
  const database = await createFreshDatabase("bookstore_schema");
  cleanups.push(() => database.drop());
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 1 }));
  return { database, sql };
}

/** The article's schema holding OUR_BOOKS, made by someone other than storagesvc. */
async function ourTable(sql: Sql): Promise<void> {
  await sql`create table books (id serial primary key, title text not null, author text not null, "desc" text not null default '')`;
  await sql`insert into books ${sql(OUR_BOOKS.map(({ title, author }) => ({ title, author })), "title", "author")}`;
}

async function start(url: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await startStoragesvcProcess(url, (stop) => cleanups.push(stop), { DB_POOL_MAX: "4", ...env });
  await service.waitFor("/healthz", 200);
  return service;
}

async function get(service: ServiceProcess, path: string): Promise<{ status: number; body: unknown; link: string | null }> {
  const response = await fetch(service.url + path, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json(), link: response.headers.get("link") };
}

/** Polls `path` until it answers `status` (the service's own recovery has no event to wait for). */
function untilStatus(service: ServiceProcess, path: string, status: number, timeoutMs = 5_000): Promise<number> {
  return waitUntil(
    `${path} did not answer ${status}`,
    async () => {
      const { status: seen } = await get(service, path);
      return seen === status || `status ${seen}`;
    },
    { timeoutMs, child: service.child, intervalMs: 25 },
  );
}

const tableExists = async (sql: Sql, name = "books") => (await sql`select to_regclass(${name}) is not null as present`)[0]?.present as boolean;

describe("a books table that vanishes while storagesvc runs", () => {
  test("renamed: /books and /readyz 503, an error line, never a new table or the demo books; renamed back, served again without a restart", async () => {
    const { database, sql } = await freshDatabase();
    await ourTable(sql);
    const service = await start(database.url);
    await service.waitFor("/readyz", 200);
    expect((await get(service, "/books")).body).toEqual(OUR_BOOKS);

    await sql`alter table books rename to books_hidden`;
    expect(await get(service, "/books")).toMatchObject({ status: 503, body: { error: "database unavailable" } });
    expect((await get(service, "/readyz")).status).toBe(503);
    const line = await service.waitForLog((l) => l.level === "error" && String(l.msg).startsWith("books table missing"));
    expect(String(line.error)).toContain("42P01");
    // Asked again and again, it still creates nothing (the demo books never stand in for the catalogue).
    for (let i = 0; i < 5; i++) expect((await get(service, "/books")).status).toBe(503);
    expect(await tableExists(sql)).toBe(false);

    // The real table can be renamed back (nothing took its name), and is served as it was.
    await sql`alter table books_hidden rename to books`;
    await untilStatus(service, "/books", 200);
    expect((await get(service, "/books")).body).toEqual(OUR_BOOKS);
    expect((await get(service, "/readyz")).status).toBe(200);
    expect(service.logs.some((l) => l.msg === "books schema ready" && l.table === "created")).toBe(false);
  });

  test("dropped: an outage until `storagesvc migrate` creates it, then served without a restart", async () => {
    const { database, sql } = await freshDatabase();
    const service = await start(database.url);
    await service.waitFor("/readyz", 200);
    await sql`drop table books`;
    expect((await get(service, "/books")).status).toBe(503);
    expect((await get(service, "/readyz")).status).toBe(503);
    expect(await tableExists(sql)).toBe(false);

    const migrate = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: database.url });
    expect(migrate.code).toBe(0);
    await untilStatus(service, "/readyz", 200);
    expect((await get(service, "/books")).body).toEqual(ARTICLE_BOOKS);
  });
});

describe("DB_MIGRATE=off", () => {
  test("never creates the table: 503 while it is missing, ready once someone else creates it", async () => {
    const { database, sql } = await freshDatabase();
    const service = await start(database.url, { DB_MIGRATE: "off" });
    await service.waitForLog((line) => line.msg === "using database" && line.db_migrate === "off");
    expect((await get(service, "/readyz")).status).toBe(503);
    expect((await get(service, "/books")).status).toBe(503);
    expect(await tableExists(sql)).toBe(false);

    await ourTable(sql);
    await untilStatus(service, "/readyz", 200);
    expect((await get(service, "/books")).body).toEqual(OUR_BOOKS);
    expect(await tableExists(sql)).toBe(true);
  });

  test("an existing empty table is served empty, never seeded (with DB_MIGRATE=auto too)", async () => {
    const { database, sql } = await freshDatabase();
    await sql`create table books (id serial primary key, title text not null, author text not null, "desc" text not null default '')`;
    for (const mode of ["off", "auto"]) {
      const service = await start(database.url, { DB_MIGRATE: mode });
      await service.waitFor("/readyz", 200);
      expect((await get(service, "/books")).body).toEqual([]);
      expect(await service.stop()).toBe(0);
    }
  });
});

describe("storagesvc migrate", () => {
  test("creates and seeds a missing table and exits 0; run again, leaves it as it is and exits 0", async () => {
    const { database, sql } = await freshDatabase();
    const first = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: database.url, DB_MIGRATE: "off" });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("books table created");
    await sql`insert into books (title, author) values ('Third', 'T')`;
    const again = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: database.url });
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toContain("books table already exists");
    expect([...(await sql`select title from books order by id`)]).toEqual([{ title: "One book" }, { title: "Second book" }, { title: "Third" }]);
    // It never listens: the command ran instead of the service.
    expect(again.stdout).not.toContain('"listening"');
  });

  test("exits 1 with one clear stderr line when the database cannot be reached", async () => {
    const run = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: "postgres://postgres:secret-9@127.0.0.1:1/none" });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^storagesvc migrate: creating the books table failed: .*ECONNREFUSED/)]);
    expect(run.stderr + run.stdout).not.toContain("secret-9");
  });
});

describe("ids", () => {
  test("a bigserial table's ids are JSON numbers; an id above 2^53-1 is a 500 naming it; after accepts up to 2^53-1", async () => {
    const { database, sql } = await freshDatabase();
    await sql`create table books (id bigserial primary key, title text not null, author text not null, "desc" text not null default '')`;
    await sql`insert into books (title, author) values ('One book', 'John Doe'), ('Second book', 'Jane Doe')`;
    const service = await start(database.url);
    await service.waitFor("/readyz", 200);
    const response = await fetch(`${service.url}/books`);
    expect(await response.text()).toBe(JSON.stringify(ARTICLE_BOOKS));

    await sql`insert into books (id, title, author) values (9007199254740991, 'Last exact', 'L'), (9007199254740993, 'Too far', 'F')`;
    expect(await get(service, "/books?limit=1&after=2")).toMatchObject({ status: 200, body: [{ id: 9_007_199_254_740_991 }] });
    expect(await get(service, "/books?after=2")).toEqual({
      status: 500,
      body: { error: "book id 9007199254740993 is above 2^53-1 (9007199254740991), the largest a JSON number carries exactly" },
      link: null,
    });
    expect(await get(service, "/books?after=9007199254740991")).toMatchObject({ status: 500 });
    expect(await get(service, "/books?after=9007199254740992")).toMatchObject({ status: 400, body: { error: expect.stringContaining("after must be") } });
  });
});

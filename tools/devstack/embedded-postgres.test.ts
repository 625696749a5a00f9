import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";
import { freePort } from "../kit/free-port.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

// The first start runs initdb in the fresh data dir: seconds, more on a busy machine.
const INITDB_MS = 90_000;
const POOL = 5;

let dir: string;
let pg: EmbeddedPostgres;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pglite-test-"));
  pg = startEmbeddedPostgres({ dataDir: join(dir, "pglite"), port: await freePort(), maxConnections: POOL + 2 });
  await pg.ready;
}, INITDB_MS);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("postgres.js speaks to the embedded PGlite over the wire: select, create, insert, read back", async () => {
  const sql = postgres(pg.url, { max: POOL, onnotice: () => {}, fetch_types: false });
  try {
    expect([...(await sql`select current_user as usr, current_database() as db`)]).toEqual([{ usr: "postgres", db: "postgres" }]);
    await sql`create table if not exists t (id serial primary key, v text)`;
    await sql`insert into t (v) values ('a'), ('b')`;
    expect([...(await sql`select v from t order by id`)]).toEqual([{ v: "a" }, { v: "b" }]);
  } finally {
    await sql.end({ timeout: 2 });
  }
});

test("a whole pool of connections queries at once without hanging", async () => {
  const sql = postgres(pg.url, { max: POOL, onnotice: () => {}, fetch_types: false });
  try {
    const results = await Promise.all(
      Array.from({ length: POOL * 4 }, (_, i) => sql`select ${i}::int as i, pg_sleep(0.01)`.then((rows) => rows[0]?.i)),
    );
    expect(results).toEqual(Array.from({ length: POOL * 4 }, (_, i) => i));
  } finally {
    await sql.end({ timeout: 2 });
  }
});

test("a second server on the same data directory is refused instead of corrupting it", async () => {
  const second = startEmbeddedPostgres({ dataDir: join(dir, "pglite"), port: await freePort(), maxConnections: 2 });
  await expect(second.ready).rejects.toThrow(/in use by process/);
  expect(await second.child.exited).toBe(1);
});

test("SIGTERM stops it cleanly with exit code 0", async () => {
  expect(await pg.stop()).toBe(0);
});

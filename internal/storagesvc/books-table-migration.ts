import type { Sql } from "postgres";
import { SEED_BOOKS } from "./book.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { withTimeLimit } from "./time-limit.ts";

/**
 * What one migration attempt found: `created` (the table did not exist; it now holds the
 * article's two books), `present` (it exists: left exactly as it was), `standby` (it does not
 * exist, and the database is a standby, where no DDL may run: the primary must create it).
 */
export type MigrationOutcome = "created" | "present" | "standby";

/**
 * Creates the `books` table when it does not exist, seeded with the article's two books in the
 * same transaction: a table is seeded when it is born and never after, so an emptied or renamed
 * table is never filled with demo data. A table that exists is never altered. Checking first
 * with a plain read lets a read-only database (or role) pass when the table is there.
 */
export async function migrateBooksTable(sql: Sql): Promise<MigrationOutcome> {
  try {
    const [found] = await sql<{ present: boolean; standby: boolean }[]>`
      select to_regclass('books') is not null as present, pg_is_in_recovery() as standby`;
    if (found?.present) return "present";
    if (found?.standby) return "standby";
    return await sql.begin(async (tx) => {
      // Replicas starting together: the advisory lock lets one create and seed; the others then
      // see the table. A table created meanwhile by anyone else makes `create table` fail, and the
      // next attempt finds it present.
      await tx`select pg_advisory_xact_lock(hashtext('storagesvc.books.migrate'))`;
      // Read from pg_class with this statement's snapshot: `to_regclass` would answer from the
      // catalog cache, which waiting on an advisory lock does not refresh, and miss the table
      // the replica before us just committed.
      const [again] = await tx<{ present: boolean }[]>`
        select exists (
          select from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relname = 'books' and n.nspname = any (current_schemas(false))
        ) as present`;
      if (again?.present) return "present";
      await tx`
        create table books (
          id serial primary key,
          title text not null,
          author text not null,
          "desc" text not null default ''
        )`;
      await tx`insert into books ${tx(SEED_BOOKS, "title", "author", "desc")}`;
      return "created";
    });
  } catch (error) {
    throw new DatabaseUnavailableError("creating the books table failed", { cause: error });
  }
}

/**
 * How long one migration attempt may take. postgres.js never fails a query while no host of a
 * multi-host URL is a primary (it keeps trying them), so without a limit `storagesvc migrate`
 * would wait for ever; the keeper at start simply tries again.
 */
export const MIGRATION_TIME_LIMIT_MS = 10_000;

/**
 * One migration attempt on a connection of its own, closed afterwards: a pooled connection keeps
 * the session settings it started with, so one opened while the database was read-only
 * (`ALTER DATABASE … SET default_transaction_read_only = on`) would refuse the DDL long after
 * the setting was lifted. `open` gives a one-connection pool.
 */
export async function migrateOnFreshConnection(open: () => Sql, timeLimitMs = MIGRATION_TIME_LIMIT_MS): Promise<MigrationOutcome> {
  const sql = open();
  try {
    return await withTimeLimit(
      migrateBooksTable(sql),
      timeLimitMs,
      () => new DatabaseUnavailableError(`creating the books table failed: no answer within ${timeLimitMs} ms (no primary reachable?)`),
    );
  } finally {
    await sql.end({ timeout: 0 });
  }
}

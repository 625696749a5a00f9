import type { Sql } from "postgres";
import { type Book, SEED_BOOKS } from "./book.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import type { PageQuery } from "../books/page-query.ts";

/**
 * One page of books (keyset pagination): `$1` is `after`, `$2` is `limit`. The `id > $1 order by
 * id limit $2` shape is answered by walking the primary key's index from `after`, so a deep page
 * costs what the first page costs and no more than `limit` rows are read or held. `$1` is a
 * bigint so any cursor the contract accepts compares with the id instead of failing as out of
 * range for an integer column. Text columns are coalesced: a table made elsewhere may allow NULL,
 * and a book's fields are always strings. Exported for the test that checks the query plan.
 */
export const BOOKS_PAGE_SQL = `
  select id, coalesce(title, '') as title, coalesce(author, '') as author, coalesce("desc", '') as "desc"
  from books
  where id > $1::bigint
  order by id
  limit $2`;

/** The books table. Every failure is a `DatabaseUnavailableError` with the driver's error as `cause`. */
export interface BooksRepository {
  /** Creates the table when missing. Idempotent, and safe when replicas run it at the same time. */
  migrate(): Promise<void>;
  /** Inserts the article's books when the table is empty; returns how many rows it added. */
  seedIfEmpty(): Promise<number>;
  /** At most `query.limit` books whose id is greater than `query.after`, ordered by id. */
  page(query: PageQuery): Promise<Book[]>;
  /** Resolves when the database answers `select 1`. */
  ping(): Promise<void>;
}

/**
 * On postgres.js: `sql` is the caller's pool (its size is DB_POOL_MAX). Tagged templates become
 * named prepared statements (postgres.js `prepare: true`, the default), parsed once per connection.
 */
export function createBooksRepository(sql: Sql): BooksRepository {
  return {
    async migrate() {
      try {
        await sql.begin(async (tx) => {
          // Two concurrent `create table if not exists` can both pass the existence check and one then
          // fails on pg_type's unique index; a transaction-scoped advisory lock serialises them.
          await tx`select pg_advisory_xact_lock(hashtext('storagesvc.books.migrate'))`;
          await tx`
            create table if not exists books (
              id serial primary key,
              title text not null,
              author text not null,
              "desc" text not null default ''
            )`;
        });
      } catch (error) {
        throw new DatabaseUnavailableError("creating the books table failed", { cause: error });
      }
    },

    async seedIfEmpty() {
      try {
        return await sql.begin(async (tx) => {
          // EXCLUSIVE conflicts with itself (and with writers) but not with plain reads: a second
          // replica seeding at the same moment waits here, then sees the rows and adds none.
          await tx`lock table books in exclusive mode`;
          const [row] = await tx<{ present: boolean }[]>`select exists (select 1 from books) as present`;
          if (row?.present) return 0;
          await tx`insert into books ${tx(SEED_BOOKS, "title", "author", "desc")}`;
          return SEED_BOOKS.length;
        });
      } catch (error) {
        throw new DatabaseUnavailableError("seeding the books table failed", { cause: error });
      }
    },

    async page({ limit, after }) {
      try {
        // A named prepared statement, like the tagged templates: parsed once per connection.
        return await sql.unsafe<Book[]>(BOOKS_PAGE_SQL, [after.toString(), limit], { prepare: true });
      } catch (error) {
        throw new DatabaseUnavailableError("listing books failed", { cause: error });
      }
    },

    async ping() {
      try {
        await sql`select 1`;
      } catch (error) {
        throw new DatabaseUnavailableError("database ping failed", { cause: error });
      }
    },
  };
}

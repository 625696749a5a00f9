import type { Sql } from "postgres";
import type { PageQuery } from "../books/page-query.ts";
import type { Book, BookPage } from "./book.ts";
import { bookId } from "./book-id.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { fitPage } from "./fit-page.ts";

/**
 * One page of books within a byte budget: `$1` is `after`, `$2` is `limit`, `$3` the budget in
 * bytes of the JSON answer. `page` is the keyset walk of the primary key's index from `after`
 * (`id > $1 order by id limit $2`): a deep page costs what the first costs. The text columns are
 * coalesced, as a table made elsewhere may allow NULL.
 *
 * `floor` is the least a book can take in the answer: its text's bytes (`octet_length` reads a
 * stored value's length from its header, without fetching it from TOAST) plus 42 for the keys,
 * quotes, a one-digit id and the `,` after it; escapes and longer ids only add. PostgreSQL sends
 * the books whose running floor fits the budget (always the first) and, when it left books out,
 * the first of them with its text as NULL: the caller then knows to link onward, for a few bytes,
 * never the row. So `limit=1000` over rows of 100 KB reads and sends five of them, not 100 MB;
 * `fitPage` then ends the page exactly, from the JSON itself.
 *
 * `(select $1)` and `(select $2)`: to the planner, values it cannot see, so it plans for the same
 * rows whatever the values, and PostgreSQL keeps the prepared statement's generic plan. With the
 * plain parameters it planned the statement afresh on each run (the window aggregates make a
 * plan for an unknown `limit` look dearer than one for `limit 100`): 0.2 ms of planning a query.
 *
 * Exported for the test that checks the query plan.
 */
export const BOOKS_PAGE_SQL = `
  select id,
    case when n = 1 or floor_end <= $3 then title end as title,
    case when n = 1 or floor_end <= $3 then author end as author,
    case when n = 1 or floor_end <= $3 then "desc" end as "desc"
  from (
    select *, row_number() over running as n, sum(floor) over running + 1 as floor_end
    from (
      select id, coalesce(title, '') as title, coalesce(author, '') as author, coalesce("desc", '') as "desc",
        coalesce(octet_length(title), 0) + coalesce(octet_length(author), 0) + coalesce(octet_length("desc"), 0) + 42 as floor
      from books
      where id > (select $1::bigint)
      order by id
      limit (select $2::int)
    ) page
    window running as (order by id rows unbounded preceding)
  ) sized
  where n <= 2 or floor_end - floor <= $3
  order by id`;

/** The books table. Every database failure is a `DatabaseUnavailableError` with the driver's error as `cause`. */
export interface BooksRepository {
  /**
   * At most `query.limit` books whose id is greater than `query.after`, ordered by id, ending
   * before the book that would take the JSON answer past the byte budget (at least one book).
   * `UnsendableIdError` for an id above 2^53−1.
   */
  page(query: PageQuery): Promise<BookPage>;
}

/** A row as the page query answers it: the book, or (text NULL) the first book the budget left out. */
type PageRow = { id: number | string; title: string | null; author: string | null; desc: string | null };

/**
 * On postgres.js: `sql` is the caller's pool (its size is DB_POOL_MAX). The page query is a named
 * prepared statement, parsed once per connection. `pageMaxBytes` is PAGE_MAX_BYTES.
 */
export function createBooksRepository(sql: Sql, { pageMaxBytes }: { pageMaxBytes: number }): BooksRepository {
  return {
    async page({ limit, after }) {
      let rows: PageRow[];
      try {
        rows = await sql.unsafe<PageRow[]>(BOOKS_PAGE_SQL, [after.toString(), limit, pageMaxBytes], { prepare: true });
      } catch (error) {
        throw new DatabaseUnavailableError("listing books failed", { cause: error });
      }
      return toBookPage(rows, pageMaxBytes);
    },
  };
}

/** The page of the rows, ids as JSON numbers; a trailing row without text says the budget left books out. */
function toBookPage(rows: PageRow[], pageMaxBytes: number): BookPage {
  const more = rows.length > 0 && rows.at(-1)!.title === null;
  if (more) rows.pop();
  // An integer column's rows are served as postgres.js made them; a bigint id is a string to convert.
  const books = rows.every((row) => typeof row.id === "number")
    ? (rows as Book[])
    : rows.map((row) => ({ id: bookId(row.id), title: row.title!, author: row.author!, desc: row.desc! }));
  return fitPage(books, more, pageMaxBytes);
}

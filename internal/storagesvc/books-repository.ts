import type { Sql } from "postgres";
import type { PageQuery } from "../books/page-query.ts";
import type { Book, BookPage } from "./book.ts";
import { bookId } from "./book-id.ts";
import { DatabaseUnavailableError } from "./database-error.ts";

/**
 * One page of books within a byte budget: `$1` is `after`, `$2` is `limit`, `$3` the budget in
 * bytes of the whole JSON answer. PostgreSQL sends only the books that fit (always the first),
 * plus, when the budget cut the page, the first book left out with its text as NULL: that is how
 * the caller knows to link onward, and it costs a few bytes, never the row.
 *
 * `page` is the keyset walk of the primary key's index from `after` (`id > $1 order by id limit
 * $2`): a deep page costs what the first costs. `$1` is a bigint so any cursor compares with an
 * integer or a bigint id. Text columns are coalesced: a table made elsewhere may allow NULL.
 *
 * Sizes, in bytes of `JSON.stringify` output (PostgreSQL's `to_json` escapes text the same way):
 * a book is `{"id":…,"title":"…","author":"…","desc":"…"}`, 34 bytes of keys and punctuation
 * around its id and its three quoted strings, plus one for the `,` or `]` after it; the answer's
 * `[` is the 1 in front of each running sum. `floors` first bounds each book from below without
 * reading its text (`octet_length` takes a stored value's length from its header, without
 * fetching it from TOAST): 6 bytes of quotes less than exact, no escapes. Only books whose floor
 * still fits pay for `to_json`; beyond, a cost of the whole budget says "does not fit". So a page
 * of 1,000 rows of 100 KB reads five of them, not 100 MB.
 *
 * Exported for the test that checks the query plan.
 */
export const BOOKS_PAGE_SQL = `
  with page as (
    select id, coalesce(title, '') as title, coalesce(author, '') as author, coalesce("desc", '') as "desc"
    from books
    where id > $1::bigint
    order by id
    limit $2
  ), floors as (
    select *, 1 + sum(octet_length(id::text) + octet_length(title) + octet_length(author) + octet_length("desc") + 41)
                over (order by id rows unbounded preceding) as floor_end
    from page
  ), costs as (
    select id, title, author, "desc",
      case when floor_end <= $3
        then octet_length(id::text) + octet_length(to_json(title)::text) + octet_length(to_json(author)::text)
           + octet_length(to_json("desc")::text) + 35
        else $3::int end as cost
    from floors
  ), ends as (
    select *, row_number() over running as n, 1 + sum(cost) over running as body_end
    from costs
    window running as (order by id rows unbounded preceding)
  )
  select id,
    case when n = 1 or body_end <= $3 then title end as title,
    case when n = 1 or body_end <= $3 then author end as author,
    case when n = 1 or body_end <= $3 then "desc" end as "desc"
  from ends
  where n <= 2 or body_end - cost <= $3
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
      return toBookPage(rows);
    },
  };
}

/** The books of the rows, ids as JSON numbers; a trailing row without text says the budget cut the page. */
function toBookPage(rows: PageRow[]): BookPage {
  const cutShort = rows.length > 0 && rows.at(-1)!.title === null;
  if (cutShort) rows.pop();
  // An integer column's rows are served as postgres.js made them; a bigint id is a string to convert.
  if (rows.every((row) => typeof row.id === "number")) return { books: rows as Book[], cutShort };
  return { books: rows.map((row) => ({ id: bookId(row.id), title: row.title!, author: row.author!, desc: row.desc! })), cutShort };
}

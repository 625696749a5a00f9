import type { Sql } from "postgres";
import { migrateBooksTable } from "../../internal/storagesvc/books-table-migration.ts";

/**
 * storagesvc's own `books` table, empty, its ids starting at 1: its migration (which seeds the
 * article's two books as it creates the table), then those two removed.
 */
export async function createEmptyBooksTable(sql: Sql): Promise<void> {
  await migrateBooksTable(sql);
  await sql`truncate books restart identity`;
}

/**
 * Appends `count` books to an existing `books` table in one statement (`generate_series` inside
 * PostgreSQL: a million rows take seconds, no rows travel over the wire), then runs ANALYZE so the
 * planner sees the table's real size. Ids come from the table's sequence. Titles and authors are
 * about the length of the article's, so a page's bytes do not depend on the table's size.
 * Returns how long it took, in milliseconds.
 */
export async function seedBooks(sql: Sql, count: number): Promise<number> {
  const started = performance.now();
  await sql`
    insert into books (title, author, "desc")
    select 'Book ' || n, 'Author ' || (n % 997), ''
    from generate_series(1, ${count}::int) as n`;
  await sql`analyze books`;
  return performance.now() - started;
}

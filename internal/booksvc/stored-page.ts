import type { PageQuery } from "../books/page-query.ts";
import { type BooksPage, booksPageOf, parseBookList, toBookList } from "./books.ts";

/**
 * A last good answer as the shared cache holds it. Nearly always the book list itself, the
 * article's form, which also says whether a next page follows: a full page links onward and a
 * short one does not, as storagesvc did before its byte budget. Only a page whose `Link` breaks
 * that rule (ended early by storagesvc's PAGE_MAX_BYTES, or a full page without a next one) is
 * stored as `{"books":[...],"next":true}`, which builds before this form read as a miss.
 */
export function storedPageValue(page: BooksPage, query: PageQuery): string {
  if (page.hasNext === (page.count === query.limit)) return page.json;
  return `{"books":${page.json},"next":${page.hasNext}}`;
}

/** The page a stored value holds (either form), or undefined when it holds none. Never throws. */
export function pageOfStoredValue(raw: string, query: PageQuery): BooksPage | undefined {
  if (!raw.startsWith("{")) {
    const books = parseBookList(raw);
    return books === undefined ? undefined : booksPageOf(books, books.length === query.limit);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || !("books" in value) || !("next" in value)) return undefined;
  const books = toBookList(value.books);
  return books === undefined || typeof value.next !== "boolean" ? undefined : booksPageOf(books, value.next);
}

// zod/mini: the same checks as zod's classic API at a fifth of the bundle, which the compiled
// binaries (and the 140 MB image limit) pay for.
import * as z from "zod/mini";

/** One book as storagesvc serves it. Unknown fields are dropped. */
export const bookSchema = z.object({
  id: z.int(),
  title: z.string(),
  author: z.string(),
  desc: z.string(),
});

/** The list `GET /books` answers (may be empty; never `null`). */
export const bookListSchema = z.array(bookSchema);

export type Book = z.infer<typeof bookSchema>;

/** Validates an already-parsed value; `undefined` when it is not a book list. Never throws. */
export function toBookList(value: unknown): Book[] | undefined {
  const result = bookListSchema.safeParse(value);
  return result.success ? result.data : undefined;
}

/**
 * Parses a response body as a book list; `undefined` for anything else (not
 * JSON, `null`, an object, a book with a missing or mistyped field). Never throws.
 */
export function parseBookList(text: string): Book[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return toBookList(value);
}

/** The canonical JSON of a validated list: what is cached and served. */
export function bookListJson(books: readonly Book[]): string {
  return JSON.stringify(books.map(({ id, title, author, desc }) => ({ id, title, author, desc })));
}

/** A validated page of books as booksvc keeps and serves it: its canonical JSON, and what its `Link` needs. */
export interface BooksPage {
  json: string;
  count: number;
  /** The last book's id; undefined for an empty page. */
  lastId: number | undefined;
  /**
   * storagesvc said a next page follows (its `Link`), which then starts after `lastId`. Not the
   * same as a full page: storagesvc's byte budget (PAGE_MAX_BYTES) ends some pages early.
   */
  hasNext: boolean;
}

export function booksPageOf(books: readonly Book[], hasNext: boolean): BooksPage {
  return { json: bookListJson(books), count: books.length, lastId: books.at(-1)?.id, hasNext: hasNext && books.length > 0 };
}

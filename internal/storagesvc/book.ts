/** One row of the `books` table, as `GET /books` serves it. */
export interface Book {
  id: number;
  title: string;
  author: string;
  desc: string;
}

/** One page of books as `GET /books` sends it. */
export interface BookPage {
  books: Book[];
  /** `books` as the JSON answer, serialized once: within PAGE_MAX_BYTES unless it holds one book larger. */
  json: string;
  /** True when books within `limit` were left out to keep the answer within PAGE_MAX_BYTES. */
  cutShort: boolean;
}

/** The article's two books, seeded in the transaction that creates the table, and only then. */
export const SEED_BOOKS: readonly Omit<Book, "id">[] = [
  { title: "One book", author: "John Doe", desc: "" },
  { title: "Second book", author: "Jane Doe", desc: "" },
];

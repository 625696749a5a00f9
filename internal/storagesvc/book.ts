/** One row of the `books` table, as `GET /books` serves it. */
export interface Book {
  id: number;
  title: string;
  author: string;
  desc: string;
}

/** The article's two books, seeded into an empty table. */
export const SEED_BOOKS: readonly Omit<Book, "id">[] = [
  { title: "One book", author: "John Doe", desc: "" },
  { title: "Second book", author: "Jane Doe", desc: "" },
];

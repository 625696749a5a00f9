import type { Book, BookPage } from "./book.ts";

/**
 * The page `GET /books` sends from `candidates` (books whose text alone fits the budget, as
 * PostgreSQL judged from lengths without escapes) and `more` (PostgreSQL left books out): the
 * longest run of them whose JSON answer stays within `maxBytes`, at least one book. Nearly always
 * the candidates fit as they are and are serialized once; only escapes or long ids can push them
 * over, and then each book is measured to find where the page ends.
 */
export function fitPage(candidates: Book[], more: boolean, maxBytes: number): BookPage {
  const json = JSON.stringify(candidates);
  if (candidates.length <= 1 || Buffer.byteLength(json) <= maxBytes) return { books: candidates, json, cutShort: more };
  let bytes = 1; // "["
  let count = 0;
  for (const book of candidates) {
    const end = bytes + Buffer.byteLength(JSON.stringify(book)) + 1; // the book and its "," or "]"
    if (count > 0 && end > maxBytes) break;
    bytes = end;
    count++;
  }
  const books = candidates.slice(0, count);
  return { books, json: JSON.stringify(books), cutShort: true };
}

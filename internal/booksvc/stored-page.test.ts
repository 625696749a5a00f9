import { expect, test } from "bun:test";
import { booksPageOf } from "./books.ts";
import { pageOfStoredValue, storedPageValue } from "./stored-page.ts";

const book = (id: number) => ({ id, title: `Book ${id}`, author: "A", desc: "" });
const query = { limit: 2, after: 0n };

test("a page whose Link follows the old rule is stored as its book list, as before", () => {
  const full = booksPageOf([book(1), book(2)], true);
  const last = booksPageOf([book(3)], false);
  expect(storedPageValue(full, query)).toBe(full.json);
  expect(storedPageValue(last, { limit: 2, after: 2n })).toBe(last.json);
  expect(pageOfStoredValue(full.json, query)).toEqual(full);
  expect(pageOfStoredValue(last.json, { limit: 2, after: 2n })).toEqual(last);
});

test("a page ended early with a next page, or a full page without one, keeps what its Link needs", () => {
  const cutShort = booksPageOf([book(1)], true);
  const fullLast = booksPageOf([book(1), book(2)], false);
  expect(storedPageValue(cutShort, query)).toBe(`{"books":${cutShort.json},"next":true}`);
  expect(pageOfStoredValue(storedPageValue(cutShort, query), query)).toEqual(cutShort);
  expect(pageOfStoredValue(storedPageValue(fullLast, query), query)).toEqual(fullLast);
});

test.each(['{"books":[]}', '{"books":[{"id":1}],"next":true}', '{"books":[],"next":"yes"}', "{", "null", "[1]"])(
  "%s holds no page",
  (raw) => expect(pageOfStoredValue(raw, query)).toBeUndefined(),
);

import { expect, test } from "bun:test";
import { nextPageAfter } from "./next-link.ts";

test("storagesvc's next link gives the id the next page starts after", () => {
  expect(nextPageAfter('</books?limit=10&after=57>; rel="next"')).toBe(57n);
  expect(nextPageAfter("<http://10.0.0.1:8082/books?after=9007199254740991&limit=2>;rel=next")).toBe(9007199254740991n);
  expect(nextPageAfter('</books?limit=1&after=1>; rel="prev", </books?limit=1&after=3>; rel="first next"')).toBe(3n);
});

test("no header, no next relation or no usable cursor: no next page", () => {
  expect(nextPageAfter(null)).toBeUndefined();
  expect(nextPageAfter('</books?limit=10&after=57>; rel="prev"')).toBeUndefined();
  expect(nextPageAfter('</books?limit=10&after=-1>; rel="next"')).toBeUndefined();
  expect(nextPageAfter('</books?limit=10>; rel="next"')).toBeUndefined();
  expect(nextPageAfter("not a link")).toBeUndefined();
});

import { describe, expect, test } from "bun:test";
import { canonicalPageParams, isFirstPage, nextPageLink, parsePageQuery } from "./page-query.ts";

const parse = (query: Record<string, string[]>) => parsePageQuery(query);

describe("parsePageQuery", () => {
  test("defaults to the first 100 books", () => {
    expect(parse({})).toEqual({ ok: true, query: { limit: 100, after: 0n } });
  });

  test("reads canonical integers, up to 2^53-1 (the largest exact JSON number) for after", () => {
    expect(parse({ limit: ["1000"], after: ["9007199254740991"] })).toEqual({
      ok: true,
      query: { limit: 1000, after: 9_007_199_254_740_991n },
    });
  });

  test.each([
    [{ limit: ["0"] }, "limit"],
    [{ limit: ["1001"] }, "limit"],
    [{ limit: ["010"] }, "limit"],
    [{ limit: ["1", "2"] }, "limit"],
    [{ after: ["-1"] }, "after"],
    [{ after: ["9007199254740992"] }, "after"],
    [{ after: ["9223372036854775807"] }, "after"],
    [{ after: ["1e3"] }, "after"],
  ])("refuses %p, naming %s", (query, name) => {
    const result = parse(query);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toStartWith(`${name} must be`);
  });
});

describe("page helpers", () => {
  test("the first page is the one without parameters", () => {
    expect(isFirstPage({ limit: 100, after: 0n })).toBe(true);
    expect(isFirstPage({ limit: 10, after: 0n })).toBe(false);
    expect(isFirstPage({ limit: 100, after: 5n })).toBe(false);
  });

  test("canonical parameters spell every page one way", () => {
    expect(canonicalPageParams({ limit: 100, after: 0n })).toBe("limit=100&after=0");
  });

  test("a full page links onward in the given URL space; a short one does not", () => {
    const query = { limit: 2, after: 0n };
    expect(nextPageLink("/books", query, 2, 7)).toBe('</books?limit=2&after=7>; rel="next"');
    expect(nextPageLink("/", query, 2, 7)).toBe('</?limit=2&after=7>; rel="next"');
    expect(nextPageLink("/", query, 1, 7)).toBeUndefined();
  });

  test("a page the byte budget ended links onward from its last book", () => {
    expect(nextPageLink("/books", { limit: 1000, after: 0n }, 5, 5, true)).toBe('</books?limit=1000&after=5>; rel="next"');
  });
});

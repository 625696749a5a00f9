import * as z from "zod/mini";

/** One page of the books (storagesvc `GET /books`, booksvc `GET /`): at most `limit` books whose id is greater than `after`, by id. */
export interface PageQuery {
  limit: number;
  /** A bigint, as PostgreSQL compares it with the id column; at most MAX_PAGE_AFTER. */
  after: bigint;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
/**
 * 2^53−1: the largest id a JSON number carries exactly, so the largest any page can end with.
 * A larger cursor could only come from a rounded id, and would skip or repeat books.
 */
export const MAX_PAGE_AFTER = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A canonical decimal integer: no sign, no leading zero, no spaces, no exponent, at most 19 digits
 * (so a long string is refused by the pattern before any conversion).
 */
export const CANONICAL_INTEGER = /^(0|[1-9]\d{0,18})$/;

/** One query parameter given exactly once as a canonical integer within [min, max]. */
function integerParameter(name: string, min: bigint, max: bigint, fallback: bigint) {
  const accepts = `${name} must be one decimal integer from ${min} to ${max} (default ${fallback})`;
  return z._default(
    z.pipe(
      z.string({ error: accepts }).check(z.regex(CANONICAL_INTEGER, { error: accepts })),
      z.pipe(
        z.transform((raw: string) => BigInt(raw)),
        z.bigint().check(z.refine((value) => value >= min && value <= max, { error: accepts })),
      ),
    ),
    fallback,
  );
}

const pageQuerySchema = z.object({
  limit: integerParameter("limit", 1n, BigInt(MAX_PAGE_LIMIT), BigInt(DEFAULT_PAGE_LIMIT)),
  after: integerParameter("after", 0n, MAX_PAGE_AFTER, 0n),
});

export type PageQueryResult = { ok: true; query: PageQuery } | { ok: false; error: string };

/**
 * Reads `limit` and `after` from the request's query parameters (every value of each name, as
 * Hono's `c.req.queries()` gives them). A parameter given twice is refused, since either reading
 * would be a guess. Other parameters are ignored, as HTTP caches and browsers add their own
 * (`?_=1700000000`) and the answer does not depend on them. Every problem is reported, one per
 * parameter, each naming the parameter and what it accepts.
 */
export function parsePageQuery(parameters: Readonly<Record<string, readonly string[] | undefined>>): PageQueryResult {
  // No parameters, nearly every request: skip zod, whose parse is paid per request on the hot path.
  if (parameters.limit === undefined && parameters.after === undefined) return FIRST_PAGE_RESULT;
  const single = (values: readonly string[] | undefined) => (values?.length === 1 ? values[0] : values);
  const parsed = pageQuerySchema.safeParse({ limit: single(parameters.limit), after: single(parameters.after) });
  if (!parsed.success) {
    const problems = new Map<PropertyKey, string>();
    for (const issue of parsed.error.issues) {
      const name = issue.path[0] ?? "query";
      if (!problems.has(name)) problems.set(name, issue.message);
    }
    return { ok: false, error: [...problems.values()].join("; ") };
  }
  return { ok: true, query: { limit: Number(parsed.data.limit), after: parsed.data.after } };
}

/** The page a request without parameters gets. */
export const FIRST_PAGE: Readonly<PageQuery> = { limit: DEFAULT_PAGE_LIMIT, after: 0n };

const FIRST_PAGE_RESULT: PageQueryResult = { ok: true, query: FIRST_PAGE };

/** True for the page a request without parameters gets. */
export function isFirstPage(query: PageQuery): boolean {
  return query.limit === DEFAULT_PAGE_LIMIT && query.after === 0n;
}

/** The page's parameters in canonical form, `limit=N&after=ID`: one spelling per page, for URLs and cache keys. */
export function canonicalPageParams(query: PageQuery): string {
  return `limit=${query.limit}&after=${query.after}`;
}

/**
 * The `Link` header of a page whose `count` books end at id `lastId`, pointing at `path` in
 * canonical form, or `undefined` for a short page. A page the byte budget ended (`cutShort`)
 * links onward like a full one, from its last book. A full page always links onward, even when it
 * happens to hold the last book: the next page is then `[]`, one cheap index probe. Fetching
 * `limit + 1` rows instead would hide the link on a full last page (a full page carries it), and
 * a keyset cursor stays valid for books added later, so "maybe more" is the honest answer.
 */
export function nextPageLink(path: string, query: PageQuery, count: number, lastId: number | bigint | undefined, cutShort = false): string | undefined {
  if ((count < query.limit && !cutShort) || lastId === undefined) return undefined;
  return pageLink(path, query.limit, lastId);
}

/** `Link` to the page of `limit` books after `lastId` under `path`: `</books?limit=N&after=ID>; rel="next"`. */
export function pageLink(path: string, limit: number, lastId: number | bigint): string {
  return `<${path}?${canonicalPageParams({ limit, after: BigInt(lastId) })}>; rel="next"`;
}

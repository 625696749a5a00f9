import { CANONICAL_INTEGER } from "../books/page-query.ts";

/**
 * Where storagesvc's `Link: </books?limit=N&after=ID>; rel="next"` says the next page starts: its
 * `after`, or undefined when the header is absent or names no next page (then there is none). A
 * target is read relative to any base, so an absolute URL works too; only its `after` is used,
 * since booksvc builds its own link in its own URL space from it.
 */
export function nextPageAfter(link: string | null): bigint | undefined {
  if (link === null) return undefined;
  // `<target>; param; param, <target>; ...`: a target never holds `>`, so each link is found by its brackets.
  for (const [, target = "", params = ""] of link.matchAll(/<([^>]*)>([^<]*)/g)) {
    if (!/(^|;)\s*rel\s*=\s*"?([^";,]*\s)?next[\s";,]/i.test(`${params};`)) continue;
    let after: string | null;
    try {
      after = new URL(target, "http://storagesvc.invalid/").searchParams.get("after");
    } catch {
      return undefined;
    }
    return after !== null && CANONICAL_INTEGER.test(after) ? BigInt(after) : undefined;
  }
  return undefined;
}

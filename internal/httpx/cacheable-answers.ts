import type { Context } from "hono";

export interface CacheableAnswersOptions {
  /** `Cache-Control` of each answer (booksvc: `max-age=…, stale-if-error=…`); unset: none sent. */
  cacheControl?: string;
}

/** A JSON answer that a cache in front can revalidate. */
export interface CacheableAnswers {
  /**
   * `200` with `json` as the body, `headers`, a strong `ETag` and `Cache-Control`; or `304` without
   * a body when the request's `If-None-Match` names that ETag (see NOT_MODIFIED_HEADERS).
   */
  json(c: Context, json: string, headers?: Record<string, string>): Response;
}

/** Of the caller's headers, what a `304` keeps (RFC 9110 15.4.5; the cache's own status and age). */
const NOT_MODIFIED_HEADERS = ["Cache-Status", "Age"] as const;

/** A strong validator: the body's length and 64-bit xxHash3, so equal bytes give equal tags on every replica. */
export function strongEtag(body: string): string {
  return `"${body.length.toString(36)}-${Bun.hash.xxHash3(body).toString(36)}"`;
}

/**
 * Whether `If-None-Match` matches `etag`: `*`, or any listed tag by weak comparison (RFC 9110
 * 13.1.2: `W/` is ignored for this header).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  for (const candidate of header.split(",")) {
    const tag = candidate.trim();
    if (tag === "*" || tag === etag || (tag.startsWith("W/") && tag.slice(2) === etag)) return true;
  }
  return false;
}

/**
 * HTTP caching for whoever sits in front (a CDN, a reverse proxy, a browser): ETag and
 * Cache-Control on each JSON answer, `304` for a matching `If-None-Match`. The tag of the last body
 * is kept, so a body served again (the same cached string) is hashed once.
 */
export function cacheableAnswers({ cacheControl }: CacheableAnswersOptions = {}): CacheableAnswers {
  let lastBody: string | undefined;
  let lastTag = "";
  const etagOf = (body: string): string => {
    if (body !== lastBody) {
      lastTag = strongEtag(body);
      lastBody = body;
    }
    return lastTag;
  };
  const validators = (etag: string): Record<string, string> => (cacheControl === undefined ? { ETag: etag } : { ETag: etag, "Cache-Control": cacheControl });

  return {
    json(c, json, headers = {}) {
      const etag = etagOf(json);
      if (ifNoneMatchMatches(c.req.header("if-none-match"), etag)) {
        const kept: Record<string, string> = validators(etag);
        for (const name of NOT_MODIFIED_HEADERS) if (headers[name] !== undefined) kept[name] = headers[name];
        return c.body(null, 304, kept);
      }
      return c.body(json, 200, { "Content-Type": "application/json", ...headers, ...validators(etag) });
    },
  };
}

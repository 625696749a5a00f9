/** What `Bun.serve` calls for each request. */
export type FetchHandler = (request: Request, ...rest: never[]) => Response | Promise<Response>;

/**
 * Bun 1.4.5 gives a request without `Host` (HTTP/1.0, what a load balancer's plain health check
 * sends) a bare path as its URL (`/readyz`, not `http://host/readyz`). Hono reads the path from
 * after the scheme and host, so such a request was routed as another path and answered 404.
 * Such a request gets `origin` in front of its path; every other request is passed on as it is
 * (one character compared).
 */
export function withOriginFormUrls<H extends FetchHandler>(fetch: H, origin: string): H {
  return function originFormUrls(request: Request, ...rest: never[]) {
    if (request.url.charCodeAt(0) !== SLASH) return fetch(request, ...rest);
    return fetch(new Request(origin + request.url, request), ...rest);
  } as H;
}

const SLASH = 47;

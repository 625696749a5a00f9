import { Bulkhead } from "../resilience/index.ts";
import { canonicalPageParams, FIRST_PAGE, type PageQuery } from "../books/page-query.ts";
import { type Book, type BooksPage, booksPageOf, parseBookList } from "./books.ts";
import { nextPageAfter } from "./next-link.ts";
import { UpstreamError } from "./upstream-error.ts";

export { isUpstreamError, isUpstreamFailure, UpstreamError, type UpstreamErrorKind } from "./upstream-error.ts";

/**
 * Parses a `Retry-After` value: delay-seconds or an HTTP date. Returns ms
 * (≥ 0), or `undefined` when absent or malformed.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date always names the weekday and GMT; Date.parse would accept much more.
  if (!/^[A-Za-z]{3},\s/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Default of `maxBodyBytes`, and of UPSTREAM_MAX_BODY_BYTES. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Most upstream attempts in flight at once per client, so most open connections to the
 * upstream (an attempt holds one keep-alive connection until its body is read). Bun's fetch
 * runs up to 256 requests at once but keeps only 64 idle connections (per kind, plain or TLS,
 * for the whole process) and closes any other one released, so beyond 64 concurrent attempts a
 * burst becomes a storm of new connections, each closed one left in TIME_WAIT. 64 is the most
 * that never churns. It also caps throughput at 64 / upstream latency; an attempt waits for a
 * slot within its own timeout. Measurements in docs/failure-modes.md, "Upstream answers and connections".
 */
export const MAX_UPSTREAM_CONNECTIONS = 64;

export interface UpstreamClientOptions {
  /** The books endpoint (STORAGESVC_URL). */
  url: string;
  /**
   * Limit on one attempt, from asking for a connection slot (see `maxConnections`) to the last
   * body byte.
   */
  attemptTimeoutMs: number;
  /**
   * Largest accepted body (UPSTREAM_MAX_BODY_BYTES); a larger one is cancelled and is `too_large`.
   * Only identity-encoded bodies are accepted, so these are decoded bytes. Default 1 MiB.
   */
  maxBodyBytes?: number;
  /** Most attempts in flight at once; the others wait for a slot. Default `MAX_UPSTREAM_CONNECTIONS`. */
  maxConnections?: number;
  /** Injected for tests. Default `globalThis.fetch` (pooled keep-alive connections). */
  fetch?: typeof globalThis.fetch;
  /** Clock for `Retry-After` dates. Default `Date.now`. */
  now?: () => number;
}

export interface FetchBooksOptions {
  /** The caller's signal (request deadline, client disconnect): ends the attempt as `deadline` or `client_closed`. */
  signal?: AbortSignal;
  /** Sent as `X-Request-Id`. */
  requestId?: string;
  /** Which page; sent as `limit` and `after` in canonical form. Default: the first. */
  page?: PageQuery;
}

/** A validated page: the list, its canonical JSON (only the four known fields: what is cached and served), and what its Link needs. */
export interface UpstreamBooks extends BooksPage {
  books: Book[];
}

export interface UpstreamClient {
  /** One attempt. Resolves with a valid book list or rejects with an `UpstreamError`. */
  fetchBooks(options?: FetchBooksOptions): Promise<UpstreamBooks>;
}

/** How much of an error body is read to keep the connection reusable; beyond it, it is cancelled. */
const ERROR_BODY_DRAIN_BYTES = 64 * 1024;

/**
 * The client of storagesvc's `GET /books`. Each call is one attempt (retries
 * and the breaker are the caller's policies): it has its own timeout, always
 * consumes or cancels the response body (so the pooled connection is reused
 * or closed, never leaked), caps the body size, validates the list, and turns
 * every failure into an `UpstreamError` with a `kind`.
 */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const {
    url,
    attemptTimeoutMs,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    maxConnections = MAX_UPSTREAM_CONNECTIONS,
    fetch: fetchImpl = globalThis.fetch,
    now = Date.now,
  } = options;
  const connections = new Bulkhead(maxConnections);

  // Strict UTF-8 (a replacement character would let a garbled body pass as books). One decoder per
  // client: a decode without `stream` starts afresh each call, even after a failed one.
  const utf8 = new TextDecoder("utf-8", { fatal: true });

  /**
   * One attempt, holding a connection slot from before the request until its body is read or
   * cancelled, so at most `maxConnections` connections are open to the upstream.
   */
  async function attemptInConnectionSlot(
    pageUrl: string,
    page: PageQuery,
    signal: AbortSignal,
    headers: Record<string, string>,
    classifyThrown: (err: unknown, during: string) => UpstreamError,
  ): Promise<UpstreamBooks> {
    try {
      await connections.acquire(signal);
    } catch (err) {
      throw classifyThrown(err, "while waiting for a free upstream connection");
    }
    try {
      let response: Response;
      try {
        // `redirect: "manual"`: a 3xx comes back as it is and is invalid (never followed to another host).
        // `decompress: false` with `Accept-Encoding: identity`: Bun's fetch inflates a compressed body a
        // network read at a time, tens of MB per read for a gzip or brotli bomb, whatever the cap; an
        // encoded body is refused instead, so every counted byte is a decoded byte.
        response = await fetchImpl(pageUrl, { method: "GET", headers, signal, redirect: "manual", decompress: false });
      } catch (err) {
        throw classifyThrown(err, "before the response");
      }
      return await pageFrom(response, page, classifyThrown);
    } finally {
      // The body was read or cancelled: the connection is back in fetch's pool, or closing.
      connections.release();
    }
  }

  /**
   * The page `response` holds, or the `UpstreamError` that says why it holds none. Always reads or
   * cancels the body.
   */
  async function pageFrom(
    response: Response,
    page: PageQuery,
    classifyThrown: (err: unknown, during: string) => UpstreamError,
  ): Promise<UpstreamBooks> {
    const { status } = response;
    if (status < 200 || status >= 300) {
      await drainSmallBody(response, utf8);
      const retryAfterMs =
        status === 503 || status === 429 ? parseRetryAfter(response.headers.get("retry-after"), now()) : undefined;
      const kind = UpstreamError.kindOfStatus(status);
      const what = status >= 300 && status < 400 ? `upstream answered ${status}, a redirect (not followed)` : `upstream answered ${status}`;
      throw new UpstreamError(kind, what, {
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }

    const contentType = response.headers.get("content-type");
    if (contentType !== null && !isJsonContentType(contentType)) {
      cancelBody(response);
      throw new UpstreamError("invalid", `upstream answered ${status} with content type ${contentType}`, { status });
    }
    const contentEncoding = response.headers.get("content-encoding");
    if (contentEncoding !== null && contentEncoding.trim().toLowerCase() !== "identity") {
      cancelBody(response);
      throw new UpstreamError("invalid", `upstream answered ${status} with content encoding ${contentEncoding}, which was not asked for`, {
        status,
      });
    }
    const declaredLength = Number(response.headers.get("content-length") ?? NaN);
    if (declaredLength > maxBodyBytes) {
      cancelBody(response);
      throw new UpstreamError("too_large", `upstream body exceeds ${maxBodyBytes} bytes (Content-Length ${declaredLength})`, { status });
    }

    let text: string;
    try {
      // A declared length was checked against the cap above, so the body can be read natively in one go.
      text = Number.isFinite(declaredLength)
        ? decodeUtf8(utf8, await response.bytes(), status)
        : await readBodyCapped(response, maxBodyBytes, utf8);
    } catch (err) {
      throw classifyThrown(err, "while reading the body");
    }
    const books = parseBookList(text);
    if (books === undefined) {
      throw new UpstreamError("invalid", `upstream answered ${status} with a body that is not a book list`, { status });
    }
    const notThePage = pageProblem(books, page);
    if (notThePage !== undefined) {
      throw new UpstreamError("invalid", `upstream answered ${status} with books that are not the page asked for: ${notThePage}`, { status });
    }
    const nextAfter = nextPageAfter(response.headers.get("link"));
    if (nextAfter !== undefined && (books.length === 0 || nextAfter !== BigInt(books.at(-1)!.id))) {
      throw new UpstreamError("invalid", `upstream answered ${status} with a next link after ${nextAfter}, not after its last book`, { status });
    }
    return { books, ...booksPageOf(books, nextAfter !== undefined) };
  }

  // One URL per page, in canonical form; the first page's is built once.
  const base = new URL(url);
  const urlOf = (page: PageQuery): string => {
    const pageUrl = new URL(base);
    pageUrl.search = canonicalPageParams(page);
    return pageUrl.toString();
  };
  const firstPageUrl = urlOf(FIRST_PAGE);

  return {
    async fetchBooks({ signal: callerSignal, requestId, page = FIRST_PAGE }: FetchBooksOptions = {}): Promise<UpstreamBooks> {
      if (callerSignal?.aborted) {
        throw new UpstreamError(UpstreamError.kindOfAbort(callerSignal.reason), "request ended before the upstream call", { cause: callerSignal.reason });
      }
      const attemptTimer = new AbortController();
      const timer = setTimeout(
        () => attemptTimer.abort(new DOMException(`attempt timed out after ${attemptTimeoutMs} ms`, "TimeoutError")),
        attemptTimeoutMs,
      );
      // Forwarded by hand, not AbortSignal.any: keeps collapsing off at its bench target (0.5 x storagesvc).
      const forwardAbort = (): void => attemptTimer.abort(callerSignal?.reason);
      callerSignal?.addEventListener("abort", forwardAbort);
      const signal = attemptTimer.signal;
      const classifyThrown = (err: unknown, during: string): UpstreamError => {
        if (callerSignal?.aborted) {
          return new UpstreamError(UpstreamError.kindOfAbort(callerSignal.reason), `request ended ${during}`, { cause: callerSignal.reason });
        }
        if (attemptTimer.signal.aborted) {
          return new UpstreamError("timeout", `upstream attempt timed out after ${attemptTimeoutMs} ms ${during}`, {
            cause: err,
          });
        }
        if (err instanceof UpstreamError) return err;
        return new UpstreamError("network", `upstream connection failed ${during}`, { cause: err });
      };

      const headers: Record<string, string> = { Accept: "application/json", "Accept-Encoding": "identity" };
      if (requestId !== undefined) headers["X-Request-Id"] = requestId;
      try {
        return await attemptInConnectionSlot(page === FIRST_PAGE ? firstPageUrl : urlOf(page), page, signal, headers, classifyThrown);
      } finally {
        // Every body is consumed or cancelled inside the attempt, so the timer is no longer needed.
        clearTimeout(timer);
        callerSignal?.removeEventListener("abort", forwardAbort);
      }
    },
  };
}

/**
 * Why `books` cannot be the page asked for (more than `limit` books, an id not above `after`, ids
 * out of order), or undefined. Such an answer is invalid: it is never served nor cached as that page.
 */
function pageProblem(books: readonly Book[], page: PageQuery): string | undefined {
  if (books.length > page.limit) return `${books.length} books for limit ${page.limit}`;
  let previous = page.after;
  for (const { id } of books) {
    if (BigInt(id) <= previous) return `id ${id} after ${previous}`;
    previous = BigInt(id);
  }
  return undefined;
}

function isJsonContentType(value: string): boolean {
  if (value === "application/json") return true; // what storagesvc sends: skip the parsing below
  const mediaType = value.split(";", 1)[0]!.trim().toLowerCase();
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

/** Cancels an unread body, which releases (closes) its connection. */
function cancelBody(response: Response): void {
  if (response.body === null || response.bodyUsed) return;
  // The cancellation only frees the socket; its outcome cannot change this attempt's result.
  response.body.cancel().catch(() => {});
}

/**
 * Reads the body up to `maxBytes` and decodes it as UTF-8. Over the cap, the
 * rest is cancelled and a `too_large` UpstreamError is thrown; a stream error
 * (reset, abort) is rethrown for the caller to classify.
 */
async function readBodyCapped(response: Response, maxBytes: number, utf8: TextDecoder): Promise<string> {
  const body = response.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        throw new UpstreamError("too_large", `upstream body exceeds ${maxBytes} bytes`, { status: response.status });
      }
      chunks.push(value);
    }
  } catch (err) {
    // Stop the transfer; the cancellation's own outcome does not matter here.
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
  return decodeUtf8(utf8, concat(chunks, total), response.status);
}

/** Decodes with a strict (`fatal`) UTF-8 decoder; invalid bytes are an `invalid` UpstreamError. */
function decodeUtf8(utf8: TextDecoder, bytes: Uint8Array, status: number): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw new UpstreamError("invalid", "upstream body is not UTF-8", { status, cause: err });
  }
}

/** Reads a small error body to the end so the connection can be reused; cancels a large one. */
async function drainSmallBody(response: Response, utf8: TextDecoder): Promise<void> {
  try {
    await readBodyCapped(response, ERROR_BODY_DRAIN_BYTES, utf8);
  } catch {
    // The body of an error answer is never used: a failure to drain it only costs the connection.
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

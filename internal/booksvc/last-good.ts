import { LRUCache } from "lru-cache";
import type { Logger } from "../logging/logger.ts";
import { throttle } from "../logging/throttle.ts";
import { canonicalPageParams, FIRST_PAGE, isFirstPage, type PageQuery } from "../books/page-query.ts";
import { type Cache, type KeyGroup, sameSlotPrefix } from "../recache/index.ts";
import type { BooksPage } from "./books.ts";
import type { BooksvcMetrics } from "./metrics.ts";
import { pageOfStoredValue, storedPageValue } from "./stored-page.ts";

/** A book list read back from the cache. */
export interface CachedBooks extends BooksPage {
  /** Whole seconds since it was stored (the `Age` header). */
  ageSeconds: number;
}

/** An unchanged answer is written again once the stored one is this old: `Age` stays accurate to a second. */
export const DEFAULT_REFRESH_MS = 1_000;
/** Pages kept by default: CACHE_MAX_PAGES' default. */
export const DEFAULT_MAX_PAGES = 100;

export interface LastGoodOptions {
  /** The shared tier: Redis, or a `MemoryCache` when no Redis is configured. */
  cache: Cache;
  /**
   * CACHE_KEY: the first page's key. The other pages' keys and their index start with a prefix in
   * its Redis Cluster hash slot (`{booksvc:books}?limit=10&after=5`, see `sameSlotPrefix`).
   */
  key: string;
  ttlSeconds: number;
  /**
   * An unchanged answer stored less than this long ago is not written again (default
   * `DEFAULT_REFRESH_MS`), so a healthy service writes at most once per this interval, and an
   * entry the shared cache lost (restart, flush, eviction) is back this soon after a fresh answer.
   */
  refreshMs?: number;
  /**
   * CACHE_MAX_PAGES: most pages kept, in memory and in the shared cache. The first page always;
   * of the others, the least recently used (memory) or written (shared) go first. Default `DEFAULT_MAX_PAGES`.
   */
  maxPages?: number;
  metrics: Pick<BooksvcMetrics, "cacheError">;
  logger: Logger;
  now?: () => number;
}

/** A last good answer held in memory. */
interface Held extends BooksPage {
  /** When it was stored (by this process, or by whoever wrote what was read from the shared cache). */
  storedAt: number;
  /** False once writing it to the shared cache failed: the next fresh answer writes it again at once. */
  saved: boolean;
}

/** Whether `books` can be an answer to `page`: at most `limit` books, the last one after `after`. */
function fitsPage(books: BooksPage, page: PageQuery): boolean {
  return books.count <= page.limit && (books.lastId === undefined || BigInt(books.lastId) > page.after);
}

/**
 * The article's "last good answer": the newest valid book list, for the strategies that fall back
 * to it, kept in two tiers. The shared cache (Redis) lets every replica answer with what any of
 * them stored; this process's memory answers when the shared cache is down or lost the entry.
 * A read returns the newer of the two, `Age` counted from the time it was stored.
 *
 * Cache failures never reach the caller: a failed or slow read is a miss, a failed write is
 * dropped; both are counted, and logged once per outage.
 */
export class LastGood {
  readonly #o: Required<LastGoodOptions>;
  /** The first page, always kept; the other pages, at most maxPages - 1 (none when maxPages is 1). */
  #first: Held | undefined;
  readonly #others: LRUCache<string, Held> | undefined;
  /** The shared cache's bounded group of the other pages' keys. */
  readonly #otherPages: KeyGroup;
  /** Starts the other pages' keys: CACHE_KEY's hash slot. */
  readonly #pagePrefix: string;
  readonly #pending = new Set<Promise<void>>();
  #failing = false;
  /** The last stored value validated, and its canonical JSON (undefined: not a book list): reads repeat the same one. */
  #checked: { raw: string; limit: number; page: BooksPage | undefined } | undefined;
  readonly #notBookList: (key: string) => void;

  constructor(options: LastGoodOptions) {
    this.#o = {
      ...options,
      refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS,
      maxPages: options.maxPages ?? DEFAULT_MAX_PAGES,
      now: options.now ?? Date.now,
    };
    const otherPages = this.#o.maxPages - 1;
    this.#others = otherPages > 0 ? new LRUCache({ max: otherPages }) : undefined;
    this.#pagePrefix = sameSlotPrefix(this.#o.key);
    this.#otherPages = { name: `${this.#pagePrefix}?pages`, maxKeys: otherPages };
    this.#notBookList = throttle(
      (key: string, count: number) =>
        this.#o.logger.warn({ key, count }, "cached answer is not a book list; treated as a miss"),
      { now: this.#o.now },
    );
  }

  /**
   * The newest stored answer for `page` (default: the first), from the shared cache or from
   * memory; undefined when neither holds a valid one. Never rejects.
   */
  async read(page: PageQuery = FIRST_PAGE): Promise<CachedBooks | undefined> {
    const key = this.keyOf(page);
    const shared = await this.#readShared(key, page);
    const held = this.#held(key);
    let newest = held;
    if (shared !== undefined && (held === undefined || shared.storedAt > held.storedAt)) {
      newest = { ...shared, saved: true };
      this.#hold(key, newest);
    }
    if (newest === undefined) return undefined;
    const { json, count, lastId, hasNext } = newest;
    return { json, count, lastId, hasNext, ageSeconds: Math.max(0, Math.floor((this.#o.now() - newest.storedAt) / 1000)) };
  }

  /**
   * Keeps `answer` (a validated page) in memory and writes it to the shared cache in the
   * background, unless it is what is held already, stored less than `refreshMs` ago. Never
   * rejects, never delays the caller.
   */
  remember(answer: BooksPage, page: PageQuery = FIRST_PAGE): void {
    const { cache, ttlSeconds, refreshMs, now } = this.#o;
    const key = this.keyOf(page);
    const at = now();
    const held = this.#peek(key);
    if (held?.saved && held.json === answer.json && held.hasNext === answer.hasNext && at - held.storedAt < refreshMs) return;
    if (!isFirstPage(page) && this.#others === undefined) return; // CACHE_MAX_PAGES=1: the first page only
    // Held before the write, so concurrent answers do not all write.
    const fresh: Held = { json: answer.json, count: answer.count, lastId: answer.lastId, hasNext: answer.hasNext, storedAt: at, saved: true };
    this.#hold(key, fresh);
    const group = isFirstPage(page) ? undefined : this.#otherPages;
    const write = cache.put(key, storedPageValue(answer, page), ttlSeconds, { group, name: canonicalPageParams(page) }).then(
      () => this.#recovered(),
      (error: unknown) => {
        fresh.saved = false;
        this.#failed("put", error);
      },
    );
    this.#pending.add(write);
    // `write` never rejects (both outcomes are handled above); this only forgets it once done.
    void write.finally(() => this.#pending.delete(write));
  }

  /**
   * The cache key of `page`: CACHE_KEY for the first, `{CACHE_KEY}?limit=N&after=ID` for the others
   * (CACHE_KEY itself as the prefix when it has a hash tag already, see `sameSlotPrefix`).
   */
  keyOf(page: PageQuery): string {
    return isFirstPage(page) ? this.#o.key : `${this.#pagePrefix}?${canonicalPageParams(page)}`;
  }

  /** Resolves when the writes started so far have finished (for shutdown and tests). */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** What memory holds under `key`, unless it has outlived the TTL. */
  #held(key: string): Held | undefined {
    const held = key === this.#o.key ? this.#first : this.#others?.get(key);
    if (held === undefined || this.#o.now() - held.storedAt < this.#o.ttlSeconds * 1000) return held;
    if (key === this.#o.key) this.#first = undefined;
    else this.#others?.delete(key);
    return undefined;
  }

  /** What memory holds under `key`, without touching its recency or its age. */
  #peek(key: string): Held | undefined {
    return key === this.#o.key ? this.#first : this.#others?.peek(key);
  }

  #hold(key: string, held: Held): void {
    if (key === this.#o.key) this.#first = held;
    else this.#others?.set(key, held);
  }

  /**
   * The valid book list the shared cache holds for `page` under `key`; undefined when none, when the
   * cache failed, or when the entry names another page (another replica's key layout, a planted
   * entry: the cache reports it as ignored) or holds books that cannot be that page.
   */
  async #readShared(key: string, page: PageQuery): Promise<(BooksPage & { storedAt: number }) | undefined> {
    let entry: Awaited<ReturnType<Cache["get"]>>;
    try {
      // No timer of our own: the cache already bounds its calls, and a second timer per read is paid by every answer from memory.
      entry = await this.#o.cache.get(key, { name: canonicalPageParams(page) });
    } catch (error) {
      this.#failed("get", error);
      return undefined;
    }
    this.#recovered();
    if (entry === undefined) return undefined;
    const books = this.#validPage(key, entry.value, page);
    if (books === undefined) return undefined;
    if (!fitsPage(books, page)) {
      this.#notBookList(key);
      return undefined;
    }
    return { ...books, storedAt: entry.storedAt };
  }

  /** A stored value as a validated page; validated once per distinct value (reads repeat the same one). */
  #validPage(key: string, raw: string, query: PageQuery): BooksPage | undefined {
    const held = this.#peek(key);
    if (held !== undefined && raw === storedPageValue(held, query)) return held;
    // The limit too: a stored book list says whether a next page follows by filling it.
    if (this.#checked?.raw !== raw || this.#checked.limit !== query.limit) {
      this.#checked = { raw, limit: query.limit, page: pageOfStoredValue(raw, query) };
    }
    if (this.#checked.page === undefined) this.#notBookList(key);
    return this.#checked.page;
  }

  #failed(operation: "get" | "put", error: unknown): void {
    this.#o.metrics.cacheError(operation);
    if (this.#failing) return;
    this.#failing = true;
    this.#o.logger.warn({ err: error, operation }, "cache unavailable; answering without it");
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#o.logger.info("cache available again");
  }
}

import type { StrategyName } from "../../internal/resilience/index.ts";
import { afterAll, afterEach, beforeAll } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { type RunningBooksvc, type Stack, startStack } from "../devstack/stack.ts";
import { createFreshDatabase, type FreshDatabase } from "./postgres.ts";
import type { Child } from "./child.ts";
import { PROBE_REQUEST_ID_PREFIX, waitUntil } from "./wait.ts";

/**
 * The real services for outage tests: storagesvc on a fresh database of the machine's PostgreSQL
 * behind the database fault proxy, behind its own fault proxy, and one booksvc per strategy, all
 * real processes started as `bun cmd/<svc>/main.ts`, with timeouts short enough for tests.
 */
export const OUTAGE_TIMEOUTS = {
  BREAKER_OPEN_MS: 1000,
  REQUEST_TIMEOUT_MS: 1500,
  UPSTREAM_TIMEOUT_MS: 300,
  // Retries a few times within the short request: with the article's 500 ms (±50 %) a request
  // could spend its whole deadline in two sleeps and miss a database that returned at 400 ms.
  RETRY_INITIAL_INTERVAL_MS: 100,
} as const;



/** A service's log line for one request: its own measure of it (`duration_ms`, request in to answer out). */
export interface RequestLine {
  request_id: string;
  status: number;
  duration_ms: number;
  [field: string]: unknown;
}

export interface OutageBooksvc extends RunningBooksvc {
  /**
   * This booksvc's log line for the request with `X-Request-Id: requestId` (every `get` sends one:
   * `Answer.requestId`), once logged; one already logged counts. A bound on how long booksvc took
   * is read here, not from the client's clock, which adds this busy machine's scheduling.
   */
  requestLine(requestId: string, timeoutMs?: number): Promise<RequestLine>;
}

export interface OutageStack {
  stack: Stack;
  database: FreshDatabase;
  booksvc: Record<StrategyName, OutageBooksvc>;
  /** Direct SQL on the fresh database (not through the proxy). */
  sql: postgres.Sql;
  /** Back to normal: proxies pass, storagesvc running, every booksvc serving fresh books. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  /** The X-Request-Id sent: how the service's log line for this request is found (`requestLine`). */
  requestId: string;
}

/**
 * One GET with a generous client timeout (the guard against a hang); the caller asserts on status,
 * headers and body, and on time through the service's log line for `requestId`. Sends
 * `headers["X-Request-Id"]`, or a new unique one.
 */
export async function get(url: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<Answer> {
  const requestId = headers["X-Request-Id"] ?? `outage-${crypto.randomUUID()}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { ...headers, "X-Request-Id": requestId } });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text, the assertion will show it.
  }
  return { status: response.status, headers: response.headers, body, requestId };
}

export const isFresh = (a: Answer) => a.status === 200 && (a.headers.get("cache-status") ?? "").includes("fwd=miss");
export const isCacheHit = (a: Answer) => a.status === 200 && (a.headers.get("cache-status") ?? "").endsWith("; hit");

/**
 * Sends requests one after the other for `ms`, and returns every answer. Real time on purpose:
 * clients keep coming through a real outage of real processes, as in production.
 */
export async function during(url: string, ms: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) answers.push(await get(url));
  return answers;
}

/**
 * Polls until `url` answers fresh books; resolves with the ms it took, rejects after `timeoutMs`.
 * An event wait: `timeoutMs` is the limit a user may wait for recovery, not a measurement.
 */
export function untilFresh(url: string, timeoutMs: number): Promise<number> {
  return waitUntil(
    `${url} served no fresh books`,
    async () => {
      const answer = await get(url, 2_000);
      return isFresh(answer) || `${answer.status} ${answer.headers.get("cache-status")}`;
    },
    { timeoutMs, intervalMs: 25 },
  );
}

/**
 * Registers a test file's hooks: one stack for all its tests (started before them, closed after),
 * healed after each test. Returns the stack's getter, for use inside tests.
 */
export function useOutageStack(strategies: readonly StrategyName[]): () => OutageStack {
  let stack: OutageStack | undefined;
  beforeAll(async () => {
    stack = await startOutageStack(strategies);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 30_000);
  afterEach(async () => {
    await stack?.heal();
  }, 30_000);
  return () => {
    if (stack === undefined) throw new Error("the outage stack is not running");
    return stack;
  };
}

/** Every "request" log line of every service, by service name and request id, for `requestLine`. */
class RequestLines {
  private readonly seen = new Map<string, RequestLine>();
  private readonly waiting = new Map<string, Set<(line: RequestLine) => void>>();

  record(service: string, raw: string): void {
    if (!raw.includes('"msg":"request"')) return;
    let line: Partial<RequestLine> & { msg?: unknown };
    try {
      line = JSON.parse(raw) as typeof line;
    } catch {
      return;
    }
    if (line.msg !== "request" || typeof line.request_id !== "string" || line.request_id.startsWith(PROBE_REQUEST_ID_PREFIX)) return;
    const key = `${service} ${line.request_id}`;
    this.seen.set(key, line as RequestLine);
    for (const resolve of this.waiting.get(key) ?? []) resolve(line as RequestLine);
    this.waiting.delete(key);
  }

  wait(service: Child, requestId: string, timeoutMs: number): Promise<RequestLine> {
    const key = `${service.name} ${requestId}`;
    const seen = this.seen.get(key);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key) ?? new Set();
      this.waiting.set(key, waiters);
      const timer = setTimeout(() => {
        waiters.delete(onLine);
        reject(new Error(`${service.name} logged no request line for ${requestId} within ${timeoutMs} ms:\n${service.tail()}`));
      }, timeoutMs);
      const onLine = (line: RequestLine) => {
        clearTimeout(timer);
        resolve(line);
      };
      waiters.add(onLine);
    });
  }
}

export async function startOutageStack(strategies: readonly StrategyName[]): Promise<OutageStack> {
  const database = await createFreshDatabase("bookstore_e2e");
  const requestLines = new RequestLines();
  let stack: Stack | undefined;
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  try {
    stack = await startStack({
      root: join(import.meta.dir, "..", ".."),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        DB_POOL_MAX: "20",
        LOG_LEVEL: "warn",
      },
      dataDir: "/nonexistent-unused-with-DATABASE_URL",
      storagesvcPort: 0,
      publicHost: "127.0.0.1",
      onLine: (service, line, stream) => {
        if (stream === "stdout") requestLines.record(service, line);
      },
    });
    await stack.ready;
    const started = stack;
    const running = await Promise.all(
      strategies.map((strategy) =>
        started.startBooksvc({
          port: 0,
          name: `booksvc-${strategy}`,
          env: {
            RESILIENCE_STRATEGY: strategy,
            ...Object.fromEntries(Object.entries(OUTAGE_TIMEOUTS).map(([k, v]) => [k, String(v)])),
            // Each request's log line: tests read booksvc's own measure of a request (duration_ms).
            LOG_LEVEL: "info",
          },
        }),
      ),
    );
    const booksvc = Object.fromEntries(
      strategies.map((s, i) => {
        const b = running[i] as RunningBooksvc;
        const withLines: OutageBooksvc = { ...b, requestLine: (id, timeoutMs = 10_000) => requestLines.wait(b.child, id, timeoutMs) };
        return [s, withLines];
      }),
    ) as Record<StrategyName, OutageBooksvc>;
    const heal = async () => {
      started.storagesvc.signal("SIGCONT");
      await started.dbProxy.pass();
      await started.storagesvcProxy.pass();
      await Promise.all(Object.values(booksvc).map((b) => untilFresh(`${b.url}/`, 20_000)));
    };
    await heal();
    return {
      stack: started,
      database,
      booksvc,
      sql,
      heal,
      close: async () => {
        await started.stop();
        await sql.end({ timeout: 2 });
        await database.drop();
      },
    };
  } catch (error) {
    await stack?.stop();
    await sql.end({ timeout: 2 });
    await database.drop();
    throw error;
  }
}

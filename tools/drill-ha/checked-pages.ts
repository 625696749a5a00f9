import type { RequestRecord } from "../drill/load-worker.ts";

/**
 * Closed-loop clients that read random pages of a table whose ids are exactly 1..bookCount and
 * check every answer against what that page must hold: the test that catches a pooler handing a
 * query to the wrong server session (`200 []` for a page that has rows, another query's rows).
 */
export interface CheckedPagesOptions {
  /** storagesvc's base URL (`http://127.0.0.1:PORT`). */
  baseUrl: string;
  clients: number;
  /** Requests in all, across the clients. */
  requests: number;
  /** The table holds ids 1..bookCount, no gaps. */
  bookCount: number;
  /** Client timeout of one request. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Record target name. */
  target?: string;
}

export interface CheckedPagesResult {
  records: RequestRecord[];
  wrong: number;
  /** The first few wrong answers, as `after=…&limit=…: <why>`. */
  wrongExamples: string[];
  elapsedMs: number;
}

/** Why a `200` body is not the page `after`/`limit` of ids 1..n, or "" when it is exactly that page. */
export function wrongPage(body: unknown, after: number, limit: number): string {
  if (!Array.isArray(body)) return "not a list";
  if (body.length !== limit) return `${body.length} books, expected ${limit}`;
  for (const [i, book] of body.entries()) {
    const b = book as { id?: unknown; title?: unknown };
    if (b?.id !== after + 1 + i) return `book ${i} has id ${JSON.stringify(b?.id)}, expected ${after + 1 + i}`;
    if (typeof b.title !== "string") return `book ${i} has no title`;
  }
  return "";
}

export async function runCheckedPages(options: CheckedPagesOptions): Promise<CheckedPagesResult> {
  const { baseUrl, clients, requests, bookCount, timeoutMs, signal, target = "storagesvc" } = options;
  const records: RequestRecord[] = [];
  const wrongExamples: string[] = [];
  let wrong = 0;
  let issued = 0;
  const started = performance.now();

  const client = async (seed: number) => {
    while (!signal.aborted && issued < requests) {
      const n = issued++;
      const limit = 1 + ((n + seed) % 10);
      const after = Math.floor(Math.random() * (bookCount - limit + 1));
      const startedAt = Date.now();
      const t0 = performance.now();
      let outcome: string;
      let books = false;
      try {
        const response = await fetch(`${baseUrl}/books?limit=${limit}&after=${after}`, { signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text();
        outcome = String(response.status);
        if (response.status === 200) {
          let why: string;
          try {
            why = wrongPage(JSON.parse(text), after, limit);
          } catch {
            why = "not JSON";
          }
          books = why === "";
          if (!books) {
            wrong++;
            if (wrongExamples.length < 5) wrongExamples.push(`after=${after}&limit=${limit}: ${why}`);
          }
        }
      } catch (error) {
        const name = (error as Error).name;
        outcome = name === "TimeoutError" || name === "AbortError" ? "timeout" : "error";
      }
      records.push({ target, startedAt, latencyMs: performance.now() - t0, outcome, books, fresh: books });
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return { records, wrong, wrongExamples, elapsedMs: performance.now() - started };
}

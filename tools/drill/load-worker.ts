/**
 * The drill's clients, run as their own process (`bun tools/drill/load-worker.ts '<json>'`) so
 * they never share an event loop with the fault proxies or the services they measure.
 *
 * For each target, `concurrency` closed-loop clients (keep-alive fetch) send `GET /` one after the
 * other, `thinkMs` apart, each with a client timeout, until SIGTERM. Every finished request is
 * written as one CSV line on stdout: `target,startedAtEpochMs,latencyMs,outcome,books,fresh`
 * (outcome: HTTP status, `timeout` or `error`; books/fresh: 1 or 0), plus `,header` when
 * `recordHeader` is asked for. Lines are batched every 100 ms.
 */
import { Child } from "../kit/child.ts";

export interface LoadWorkerOptions {
  targets: Array<{ name: string; url: string }>;
  concurrency: number;
  thinkMs: number;
  timeoutMs: number;
  /** A response header to record with each request: which replica a load balancer picked, say. */
  recordHeader?: string;
}

export interface RequestRecord {
  target: string;
  startedAt: number;
  latencyMs: number;
  outcome: string;
  books: boolean;
  fresh: boolean;
  /** The `recordHeader` value ("" when the answer had none); absent when none was asked for. */
  header?: string;
}

export function parseRecord(line: string): RequestRecord | undefined {
  const parts = line.split(",");
  if (parts.length !== 6 && parts.length !== 7) return undefined;
  const [target, startedAt, latencyMs, outcome, books, fresh, header] = parts as [string, string, string, string, string, string, string?];
  return {
    target,
    startedAt: Number(startedAt),
    latencyMs: Number(latencyMs),
    outcome,
    books: books === "1",
    fresh: fresh === "1",
    ...(header === undefined ? {} : { header }),
  };
}

/** A 200 whose body is a non-empty list of books: what a user calls "it works". */
export function isBookList(body: unknown): boolean {
  return (
    Array.isArray(body) &&
    body.length > 0 &&
    body.every((b) => typeof b === "object" && b !== null && typeof (b as { title?: unknown }).title === "string")
  );
}

async function oneRequest(url: string, timeoutMs: number, recordHeader: string | undefined): Promise<Omit<RequestRecord, "target">> {
  const startedAt = Date.now();
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let books = false;
    if (response.status === 200) {
      try {
        books = isBookList(JSON.parse(text));
      } catch {
        books = false;
      }
    }
    const fresh = books && (response.headers.get("cache-status") ?? "").includes("fwd=miss");
    // A comma would split the CSV line.
    const header = recordHeader === undefined ? {} : { header: (response.headers.get(recordHeader) ?? "").replaceAll(",", ";") };
    return { startedAt, latencyMs: performance.now() - started, outcome: String(response.status), books, fresh, ...header };
  } catch (error) {
    const name = (error as Error).name;
    const outcome = name === "TimeoutError" || name === "AbortError" ? "timeout" : "error";
    const header = recordHeader === undefined ? {} : { header: "" };
    return { startedAt, latencyMs: performance.now() - started, outcome, books: false, fresh: false, ...header };
  }
}

export async function runLoad(
  options: LoadWorkerOptions,
  signal: AbortSignal,
  write: (text: string) => Promise<void>,
): Promise<void> {
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const text = `${batch.join("\n")}\n`;
    batch = [];
    await write(text);
  };
  // A failed periodic write (stdout closed) ends nothing by itself: the parent stops us.
  const flusher = setInterval(() => void flush().catch(() => {}), 100);
  const client = async (target: { name: string; url: string }) => {
    while (!signal.aborted) {
      const r = await oneRequest(target.url, options.timeoutMs, options.recordHeader);
      if (signal.aborted) break;
      const header = r.header === undefined ? "" : `,${r.header}`;
      batch.push(
        `${target.name},${r.startedAt},${r.latencyMs.toFixed(1)},${r.outcome},${r.books ? 1 : 0},${r.fresh ? 1 : 0}${header}`,
      );
      if (options.thinkMs > 0) await Bun.sleep(options.thinkMs);
    }
  };
  try {
    const clients: Array<Promise<void>> = [];
    for (const target of options.targets) {
      for (let i = 0; i < options.concurrency; i++) clients.push(client(target));
    }
    // Clients stop at the abort; the ones stuck in a request are not waited for.
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    void Promise.allSettled(clients);
  } finally {
    clearInterval(flusher);
    await flush();
  }
}

/**
 * Starts this file as its own process with `options`: each request record goes to `onRecord`,
 * any other output line (an error) to `onOtherLine`. Stop the returned child to end the clients.
 */
export function startLoadWorker(
  name: string,
  options: LoadWorkerOptions,
  onRecord: (record: RequestRecord) => void,
  onOtherLine: (line: string) => void = () => {},
): Child {
  return Child.start({
    name,
    command: [process.execPath, import.meta.path, JSON.stringify(options)],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    onLine: (line, stream) => {
      const record = stream === "stdout" ? parseRecord(line) : undefined;
      if (record) onRecord(record);
      else onOtherLine(line);
    },
  });
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2] ?? "{}") as LoadWorkerOptions;
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  process.on("SIGINT", () => stop.abort());
  await runLoad(options, stop.signal, (text) => new Promise((resolve) => process.stdout.write(text, () => resolve())));
  process.exit(0);
}

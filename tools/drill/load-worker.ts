/**
 * The drill's clients, run as their own process (`bun tools/drill/load-worker.ts '<json>'`) so
 * they never share an event loop with the fault proxies or the services they measure.
 *
 * Open loop: each target gets `GET /` at `rate` requests per second, at fixed times
 * (tools/kit/fixed-rate.ts), whether or not earlier ones were answered, until SIGTERM. Each request
 * is timed from when it was meant to leave, and the client timeout runs from then too, so a stall
 * counts once for every request it held up, as users arriving at that rate would live it.
 * Every finished request is written as one CSV line on stdout:
 * `target,startedAtEpochMs,latencyMs,outcome,books,fresh` (startedAt: the intended send time;
 * outcome: HTTP status, `timeout` or `error`; books/fresh: 1 or 0), plus `,header` when
 * `recordHeader` is asked for. Lines are batched every 100 ms.
 *
 * Requests in flight are bounded by `maxInFlight` (Bun's fetch holds the others until a connection
 * is free, BUN_CONFIG_MAX_HTTP_REQUESTS), and waiting ones by rate x timeout: a request that could
 * not even be sent within the timeout is a `timeout`, from its intended time.
 */
import { Child } from "../kit/child.ts";
import { sendAtFixedRate } from "../kit/fixed-rate.ts";

/**
 * How each target is loaded: open loop at `rate` req/s (what the drills measure with), or closed
 * loop, `closedLoopClients` each sending the next request `thinkMs` after an answer: only to make load for an
 * outage test, never to report a latency, since it stops sending while the server stalls.
 */
export type LoadShape = { rate: number } | { closedLoopClients: number; thinkMs: number };

export interface LoadWorkerOptions {
  targets: Array<{ name: string; url: string }>;
  load: LoadShape;
  /** Client timeout, from each request's intended send time. */
  timeoutMs: number;
  /** Most requests of this worker in flight at once (all targets); the worker process only. */
  maxInFlight?: number;
  /** A response header to record with each request: which replica a load balancer picked, say. */
  recordHeader?: string;
}

export interface RequestRecord {
  target: string;
  /** When the request was meant to leave (epoch ms): open loop, the schedule's time, not the send. */
  startedAt: number;
  /** From `startedAt` to the answer (or the timeout): waiting to be sent counts. */
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

/**
 * Requests in flight per worker: room for the retry strategy's 10 s waits at a few hundred req/s
 * (every one of them a socket), well inside the default 20,000 open files.
 */
export const DEFAULT_MAX_IN_FLIGHT = 4096;

/** A 200 whose body is a non-empty list of books: what a user calls "it works". */
export function isBookList(body: unknown): boolean {
  return (
    Array.isArray(body) &&
    body.length > 0 &&
    body.every((b) => typeof b === "object" && b !== null && typeof (b as { title?: unknown }).title === "string")
  );
}

/** One request meant to leave at `intendedAt` (performance.now() clock), which may be a little past. */
async function oneRequest(
  url: string,
  intendedAt: number,
  timeoutMs: number,
  recordHeader: string | undefined,
): Promise<Omit<RequestRecord, "target" | "startedAt">> {
  const noHeader = recordHeader === undefined ? {} : { header: "" };
  const left = timeoutMs - (performance.now() - intendedAt);
  if (left <= 0) return { latencyMs: performance.now() - intendedAt, outcome: "timeout", books: false, fresh: false, ...noHeader };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(left) });
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
    return { latencyMs: performance.now() - intendedAt, outcome: String(response.status), books, fresh, ...header };
  } catch (error) {
    const name = (error as Error).name;
    const outcome = name === "TimeoutError" || name === "AbortError" ? "timeout" : "error";
    return { latencyMs: performance.now() - intendedAt, outcome, books: false, fresh: false, ...noHeader };
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
  const epochAtZero = Date.now() - performance.now();
  const request = async (target: { name: string; url: string }, intendedAt: number): Promise<void> => {
    const r = await oneRequest(target.url, intendedAt, options.timeoutMs, options.recordHeader);
    if (signal.aborted) return;
    const header = r.header === undefined ? "" : `,${r.header}`;
    const startedAt = Math.round(epochAtZero + intendedAt);
    batch.push(`${target.name},${startedAt},${r.latencyMs.toFixed(1)},${r.outcome},${r.books ? 1 : 0},${r.fresh ? 1 : 0}${header}`);
  };
  const load = options.load;
  const closedLoopClient = async (target: { name: string; url: string }, thinkMs: number): Promise<void> => {
    while (!signal.aborted) {
      await request(target, performance.now());
      if (thinkMs > 0) await Bun.sleep(thinkMs);
    }
  };
  try {
    if ("rate" in load) {
      const [startAt, stopAt] = [performance.now(), Number.POSITIVE_INFINITY];
      // Not awaited: an open loop sends the next request whether or not this one was answered.
      const send = (target: { name: string; url: string }) => (intendedAt: number) => void request(target, intendedAt);
      await Promise.all(options.targets.map((target) => sendAtFixedRate({ ratePerSecond: load.rate, startAt, stopAt, signal }, send(target))));
    } else {
      for (const target of options.targets) {
        for (let i = 0; i < load.closedLoopClients; i++) void closedLoopClient(target, load.thinkMs);
      }
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    }
    // Requests still in flight at the abort are not waited for.
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
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      // Bun's fetch runs at most this many requests at once and holds the others (256 by default).
      BUN_CONFIG_MAX_HTTP_REQUESTS: String(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
    },
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

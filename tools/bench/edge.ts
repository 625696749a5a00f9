/**
 * `bun run bench:edge`: the figures of booksvc's edge features (docs/edge.md), each against the
 * built binaries (dist/), as its own section:
 *
 * - retry: 64 closed-loop clients on `retry` (collapsing off, 3 s request timeout, 50 ms first
 *   backoff) while the upstream answers 500 throughout: upstream calls per request, with the retry
 *   budget at its defaults and without it.
 * - overload: booksvc's capacity (closed loop), then twice that offered open loop, and 2,000
 *   closed-loop clients, with MAX_IN_FLIGHT at its default, sized, and off: admitted p99, 503
 *   latency, requests never answered, the worst /healthz answer; behind a slow dependency and
 *   CPU-bound, with the most refusals booksvc can answer.
 * - revalidate: bytes of a 200 and of the 304 that replaces it, for the first page and a page of
 *   100 books.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { DEFAULT_MAX_IN_FLIGHT } from "../../internal/booksvc/config.ts";
import { listFlag, numberFlag, parseFlags, UsageError } from "../kit/args.ts";
import { binaryPath, ensureBinaries } from "../kit/binaries.ts";
import { startFakeUpstream } from "../kit/fake-upstream.ts";
import { startPooledUpstream } from "../kit/pooled-upstream.ts";
import { booksvcCounters, readMetric, untilMetric } from "../kit/metrics.ts";
import { runTool } from "../kit/run-tool.ts";
import { seedBooks } from "../kit/seed-books.ts";
import { formatTable } from "../kit/table.ts";
import { BenchRun } from "./bench-run.ts";
import { LatencyHistogram } from "../kit/latency-histogram.ts";
import { parseResponse } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import type { OpenLoopOptions, OpenLoopResult } from "./open-loop.ts";
import { REPO_ROOT } from "./processes.ts";

const SECTIONS = ["retry", "overload", "revalidate"] as const;
type Section = (typeof SECTIONS)[number];

interface EdgeOptions {
  help: boolean;
  sections: Section[];
  seconds: number;
  /** Open-loop rate as a multiple of the measured capacity. */
  factor: number;
}

export const EDGE_USAGE = `usage: bun run bench:edge [options]

  --only <list>     sections to run, of ${SECTIONS.join(", ")} (default: all)
  --seconds <n>     length of each measured run (default 10)
  --factor <x>      overload: the open-loop rate as a multiple of the measured capacity (default 2)
  --help            this text
`;

function parseEdgeOptions(argv: readonly string[]): EdgeOptions {
  const flags = parseFlags(argv, { only: { type: "string" }, seconds: { type: "string" }, factor: { type: "string" }, help: { type: "boolean" } });
  const seconds = numberFlag("seconds", flags.seconds, 10);
  if (seconds < 2) throw new UsageError("--seconds: at least 2");
  const factor = numberFlag("factor", flags.factor, 2);
  return { help: flags.help ?? false, sections: listFlag("only", flags.only, SECTIONS, SECTIONS), seconds, factor };
}

const log = (message: string): void => {
  process.stderr.write(`bench:edge: ${message}\n`);
};
const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(0));

/** Runs the open-loop generator (open-loop.ts) as its own process. */
async function runOpenLoopProcess(options: OpenLoopOptions, signal: AbortSignal): Promise<OpenLoopResult> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "open-loop.ts"), JSON.stringify(options)], {
    cwd: REPO_ROOT,
    signal,
    stdout: "pipe",
    stderr: "inherit",
  });
  const [text, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0) throw new Error(`open-loop generator exited ${code}`);
  return JSON.parse(text) as OpenLoopResult;
}

/** Upstream calls per request, 64 `retry` clients, upstream answering 500 all along. */
async function retrySection(run: BenchRun, options: EdgeOptions, signal: AbortSignal): Promise<string> {
  const upstream = await startFakeUpstream();
  try {
    upstream.status(500);
    const rows: string[][] = [];
    for (const [name, budget] of [
      ["budget 20 %, 10/s (defaults)", {}],
      ["no budget", { RETRY_BUDGET_PERCENT: "1000", RETRY_BUDGET_MIN_PER_S: "1000000" }],
    ] as const) {
      const booksvc = await run.start({
        name: `booksvc-retry-${rows.length}`,
        command: [binaryPath("booksvc")],
        env: {
          STORAGESVC_URL: upstream.url,
          RESILIENCE_STRATEGY: "retry",
          COLLAPSE_REQUESTS: "false",
          REQUEST_TIMEOUT_MS: "3000",
          RETRY_INITIAL_INTERVAL_MS: "50",
          LOG_LEVEL: "info",
          ...budget,
        },
        readyPath: "/healthz",
        signal,
      });
      const before = upstream.attempts;
      const result = await runLoadProcess({ url: booksvc.url, concurrency: 64, warmupMs: 0, durationMs: options.seconds * 1000 }, signal);
      // Requests cut off when the clients left still count (client_closed), with the calls they made.
      await Bun.sleep(3_500);
      const counters = await booksvcCounters(booksvc.url);
      const refused = await readMetric(booksvc.url, "booksvc_upstream_retries_refused_total");
      rows.push([
        name,
        String(counters.answers),
        String(upstream.attempts - before),
        (counters.calls / counters.answers).toFixed(2),
        String(refused),
        ms(LatencyHistogram.fromJSON(result.histogram).percentile(0.5)),
      ]);
      await run.stopAll();
    }
    return `retry: 64 clients, RESILIENCE_STRATEGY=retry, COLLAPSE_REQUESTS=false, REQUEST_TIMEOUT_MS=3000, RETRY_INITIAL_INTERVAL_MS=50, upstream answering 500 for ${options.seconds} s\n\n${formatTable(
      ["retry budget", "requests", "upstream calls", "calls / request", "retries refused", "p50 ms"],
      rows,
      { style: "markdown" },
    )}`;
  } finally {
    await upstream.close();
  }
}

/** Answers neither 2xx nor 503 (a 502 or 504 when the dependency's queue outlasts the timeout), by status. */
function otherStatuses(statuses: Record<string, number>): string {
  const other = Object.entries(statuses).filter(([status]) => !status.startsWith("2") && status !== "503");
  return other.length === 0 ? "0" : other.map(([status, count]) => `${count} × ${status}`).join(", ");
}

function overloadRow(name: string, result: OpenLoopResult): string[] {
  const admitted = LatencyHistogram.fromJSON(result.admitted);
  const shed = LatencyHistogram.fromJSON(result.shed);
  return [
    name,
    String(result.sent),
    String(admitted.count),
    admitted.count === 0 ? "-" : ms(admitted.percentile(0.99)),
    String(shed.count),
    shed.count === 0 ? "-" : ms(shed.percentile(0.99)),
    shed.count === 0 ? "-" : ms(shed.maxMs),
    otherStatuses(result.statuses),
    String(result.unanswered),
    String(result.notSent),
    ms(result.probe.maxMs),
    result.maxSendLagMs === 0 ? "-" : ms(result.maxSendLagMs),
  ];
}

/**
 * With two CPUs or more and `taskset`: booksvc alone on CPU 0, this tool and everything it starts
 * after (the load generators, storagesvc) on the others, so the generator at twice booksvc's
 * capacity does not take booksvc's CPU. Returns the prefix that puts a command on CPU 0.
 */
function pinBooksvcApart(): string[] {
  const cpus = availableParallelism();
  if (cpus < 2 || Bun.which("taskset") === null) return [];
  Bun.spawnSync(["taskset", "-a", "-cp", `1-${cpus - 1}`, String(process.pid)], { stdout: "ignore" });
  return ["taskset", "-c", "0"];
}

/** Requests a second 64 closed-loop clients get from `url` (after a 1 s warm-up, over 5 s). */
async function closedLoopRate(url: string, signal: AbortSignal): Promise<number> {
  const measured = await runLoadProcess({ url, concurrency: 64, warmupMs: 1_000, durationMs: 5_000 }, signal);
  return Math.round(measured.requests / measured.seconds);
}

/** One place held by a request that never ends (the upstream hangs): every other request to `/` is refused. */
async function refusalCeiling(run: BenchRun, onCpu0: string[], signal: AbortSignal): Promise<number> {
  const upstream = await startFakeUpstream();
  try {
    upstream.hang();
    const booksvc = await run.start({
      name: "booksvc-refusals",
      command: [...onCpu0, binaryPath("booksvc")],
      env: {
        STORAGESVC_URL: upstream.url,
        RESILIENCE_STRATEGY: "none",
        MAX_IN_FLIGHT: "1",
        REQUEST_TIMEOUT_MS: "240000",
        UPSTREAM_TIMEOUT_MS: "240000",
        LOG_LEVEL: "info",
      },
      readyPath: "/readyz",
      signal,
    });
    const held = fetch(booksvc.url, { signal }).catch(() => undefined);
    await untilMetric(booksvc.url, "booksvc_upstream_calls_total", 1, 5_000);
    const ceiling = await closedLoopRate(booksvc.url, signal);
    await run.stopAll();
    await held;
    return ceiling;
  } finally {
    await upstream.close();
  }
}

interface OverloadVariant {
  label: string;
  env: Record<string, string>;
}

interface OverloadScenario {
  title: string;
  storagesvcUrl: string;
  env: Record<string, string>;
  /** The shedding settings to compare, given the capacity measured with shedding off. */
  variants: (capacity: number) => OverloadVariant[];
}

const SHEDDING_OFF: OverloadVariant = { label: "MAX_IN_FLIGHT=0 (off)", env: { MAX_IN_FLIGHT: "0" } };

/** Capacity (64 closed-loop clients, shedding off), then for each variant `factor` × it open loop and 2,000 polite clients. */
async function overloadScenario(run: BenchRun, options: EdgeOptions, onCpu0: string[], scenario: OverloadScenario, signal: AbortSignal) {
  const start = (name: string, env: Record<string, string>) =>
    run.start({
      name,
      command: [...onCpu0, binaryPath("booksvc")],
      env: { STORAGESVC_URL: scenario.storagesvcUrl, LOG_LEVEL: "info", ...scenario.env, ...env },
      readyPath: "/readyz",
      signal,
    });
  const measuring = await start("booksvc-capacity", SHEDDING_OFF.env);
  const capacity = await closedLoopRate(measuring.url, signal);
  await run.stop(measuring);
  const variants = [...scenario.variants(capacity), SHEDDING_OFF];
  log(`${scenario.title}: capacity (64 closed-loop clients) ${capacity} req/s`);
  const rows: string[][] = [];
  for (const [i, variant] of variants.entries()) {
    const booksvc = await start(`booksvc-overload-${i}`, variant.env);
    const common = { url: booksvc.url, durationMs: options.seconds * 1000, probeUrl: `${booksvc.url}/healthz` };
    const rate = Math.round(options.factor * capacity);
    rows.push(overloadRow(`${variant.label}, ${rate} req/s open loop`, await runOpenLoopProcess({ ...common, ratePerS: rate }, signal)));
    rows.push(overloadRow(`${variant.label}, 2,000 clients honouring Retry-After`, await runOpenLoopProcess({ ...common, clients: 2_000, honourRetryAfter: true }, signal)));
    await run.stop(booksvc);
  }
  return { rows, capacity };
}

const OVERLOAD_COLUMNS = ["run", "sent", "2xx", "2xx p99 ms", "503", "503 p99 ms", "503 max ms", "other answers", "unanswered", "not sent (all connections busy)", "/healthz max ms", "generator lag max ms"];

/**
 * Two overloads. A slow dependency: storagesvc's pool (not booksvc) sets the capacity, the case
 * MAX_IN_FLIGHT is for, at its default and sized by Little's law for 25 ms. booksvc CPU-bound
 * (defaults, collapsing on, a real storagesvc): then a refusal costs CPU like an answer does, and
 * the refusal ceiling (booksvc refusing everything) says how far past capacity any in-process
 * shedding can keep up.
 */
async function overloadSection(run: BenchRun, options: EdgeOptions, signal: AbortSignal): Promise<string> {
  const onCpu0 = pinBooksvcApart();
  const pinning = onCpu0.length === 0 ? "not pinned" : "booksvc alone on CPU 0, the rest on the others";
  const pool = startPooledUpstream({ slots: 16, serviceMs: 4 });
  let slow: Awaited<ReturnType<typeof overloadScenario>>;
  try {
    slow = await overloadScenario(run, options, onCpu0, {
      title: "slow dependency",
      storagesvcUrl: pool.url,
      env: { RESILIENCE_STRATEGY: "none", COLLAPSE_REQUESTS: "false" },
      variants: (capacity) => {
        const sized = Math.max(1, Math.round(capacity * 0.025));
        return [
          { label: `MAX_IN_FLIGHT=${DEFAULT_MAX_IN_FLIGHT} (default)`, env: {} as Record<string, string> },
          { label: `MAX_IN_FLIGHT=${sized} (capacity × 25 ms)`, env: { MAX_IN_FLIGHT: String(sized) } },
        ];
      },
    }, signal);
  } finally {
    await pool.close();
  }
  const storagesvc = await run.start({
    name: "storagesvc",
    command: [binaryPath("storagesvc")],
    env: { DATABASE_URL: await run.databaseUrl(), LOG_LEVEL: "info" },
    readyPath: "/readyz",
    signal,
  });
  const cpuBound = await overloadScenario(run, options, onCpu0, {
    title: "booksvc CPU-bound",
    storagesvcUrl: `${storagesvc.url}/books`,
    env: {},
    variants: () => [{ label: `MAX_IN_FLIGHT=${DEFAULT_MAX_IN_FLIGHT} (default)`, env: {} }],
  }, signal);
  await run.stopAll();
  const ceiling = await refusalCeiling(run, onCpu0, signal);
  const table = (rows: string[][]) => formatTable(OVERLOAD_COLUMNS, rows, { style: "markdown" });
  return [
    `overload: ${pinning}; ${options.factor} × capacity open loop, and 2,000 closed-loop clients honouring Retry-After; ${options.seconds} s per run`,
    `slow dependency: a stand-in storagesvc with a pool of 16 × 4 ms (${pool.capacityPerS} req/s), RESILIENCE_STRATEGY=none, COLLAPSE_REQUESTS=false; booksvc capacity ${slow.capacity} req/s (64 closed-loop clients); MAX_IN_FLIGHT at its default, at capacity × 25 ms, and off`,
    table(slow.rows),
    `booksvc CPU-bound: booksvc defaults (combined, collapsing on) over storagesvc and PostgreSQL; capacity ${cpuBound.capacity} req/s (64 closed-loop clients)`,
    table(cpuBound.rows),
    `refusal ceiling: booksvc refusing every request (MAX_IN_FLIGHT=1, its place held), 64 closed-loop clients: ${ceiling} req/s, ${(ceiling / cpuBound.capacity).toFixed(2)} × its CPU-bound capacity. Offered more than that, no shedding inside booksvc can answer every request.`,
  ].join("\n\n");
}

/** The bytes of one whole answer (status line, headers, body) to `path` with `headers`. */
async function answerBytes(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; bytes: number; etag?: string }> {
  const { hostname, port } = new URL(url);
  const request = `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: application/json\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}Connection: close\r\n\r\n`;
  let buffer = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open: (socket) => void socket.write(request),
        data(socket, chunk) {
          buffer = Buffer.concat([buffer, chunk]);
          const parsed = parseResponse(buffer);
          if (parsed === "incomplete") return;
          socket.end();
          const etag = /\r\netag: ([^\r]*)/.exec(parsed.head)?.[1];
          resolve({ status: parsed.status, bytes: parsed.length, ...(etag === undefined ? {} : { etag }) });
        },
        error: (_socket, error) => reject(error),
        connectError: (_socket, error) => reject(error),
      },
    }).catch(reject);
  });
}

/** Bytes of a 200 and of the 304 a revalidating cache gets instead, per page size. */
async function revalidateSection(run: BenchRun, signal: AbortSignal): Promise<string> {
  const databaseUrl = await run.databaseUrl();
  const storagesvc = await run.start({ name: "storagesvc-revalidate", command: [binaryPath("storagesvc")], env: { DATABASE_URL: databaseUrl }, readyPath: "/readyz", signal });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ count: number }[]>`select count(*)::int as count from books`;
    const count = row?.count ?? 0;
    if (count < 102) await seedBooks(sql, 102 - count);
  } finally {
    await sql.end();
  }
  const booksvc = await run.start({ name: "booksvc-revalidate", command: [binaryPath("booksvc")], env: { STORAGESVC_URL: `${storagesvc.url}/books` }, readyPath: "/readyz", signal });
  const rows: string[][] = [];
  for (const [name, path] of [
    ["first page (limit 2)", "/?limit=2"],
    ["100 books (the default page)", "/"],
  ] as const) {
    const full = await answerBytes(booksvc.url, path, {});
    const revalidated = await answerBytes(booksvc.url, path, { "If-None-Match": full.etag ?? "" });
    if (full.status !== 200 || revalidated.status !== 304) throw new Error(`${path}: expected 200 then 304, got ${full.status} then ${revalidated.status}`);
    rows.push([name, String(full.bytes), String(revalidated.bytes), `${(100 * (1 - revalidated.bytes / full.bytes)).toFixed(0)} %`]);
  }
  return `revalidate: whole answers (status line, headers, body) from booksvc, 200 and then 304 for If-None-Match with its ETag\n\n${formatTable(
    ["page", "200 bytes", "304 bytes", "saved per revalidation"],
    rows,
    { style: "markdown" },
  )}`;
}

async function run(options: EdgeOptions, signal: AbortSignal): Promise<number> {
  await ensureBinaries(["storagesvc", "booksvc"], log);
  const benchRun = await BenchRun.open("edge", log);
  let failed = true;
  try {
    for (const section of options.sections) {
      log(`${section}…`);
      const table =
        section === "retry"
          ? await retrySection(benchRun, options, signal)
          : section === "overload"
            ? await overloadSection(benchRun, options, signal)
            : await revalidateSection(benchRun, signal);
      process.stdout.write(`${table}\n\n`);
      await benchRun.stopAll();
    }
    failed = false;
    return 0;
  } finally {
    await benchRun.close(failed);
  }
}

if (import.meta.main) await runTool({ name: "bench:edge", usage: EDGE_USAGE, parse: parseEdgeOptions, run });

/**
 * `bun run drill`: the article's experiment, measured. One fresh booksvc per strategy runs side by
 * side against the same storagesvc, each with its own clients, so every strategy lives through the
 * very same faults: database down, storagesvc down, storagesvc frozen, database slow. Per strategy
 * and fault: requests, % answered with books, % errors by status, % client timeouts, latency during
 * the fault (max included), and the time from the end of the fault to fresh data again. Service
 * logs go to .data/drill-logs/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FileSink } from "bun";
import type { Child } from "./kit/child.ts";
import { runTool } from "./kit/run-tool.ts";
import { booksvcCounters } from "./kit/metrics.ts";
import { type RunningBooksvc, type Stack, startStack } from "./devstack/stack.ts";
import { type RequestRecord, startLoadWorker } from "./drill/load-worker.ts";
import { type DrillOptions, parseDrillOptions, USAGE } from "./drill/options.ts";
import { Progress } from "./drill/progress.ts";
import { type CallSample, callsBetween, summarize } from "./drill/summary.ts";
import { renderTable, type ScenarioResult } from "./drill/table.ts";
import { drillReportPage, drillTimeline } from "./report/drill-page.ts";
import { writeReportHtml } from "./report/html.ts";
import { MetricsSampler } from "./report/metrics-sampler.ts";
import type { TimelineWindow } from "./report/timeline.ts";

const ROOT = join(import.meta.dir, "..");
const WARMUP_MS = 3_000;
const SETTLE_MS = 1_000;
/** The window, from the first fresh answer after a fault, in which the drill counts requests and upstream calls. */
const FIRST_SECOND_MS = 1_000;
/** After a fault, wait at most this long for every strategy to serve fresh data again. */
const RECOVERY_MAX_MS = 20_000;
/** storagesvc's pool in the drill: above the number of requests the four booksvcs can have in flight. */
const DRILL_POOL_MAX = "64";

interface Fault {
  name: string;
  title: string;
  start(stack: Stack): Promise<void>;
  end(stack: Stack): Promise<void>;
}

function faults(durationS: string, slowMs: number, upstreamTimeoutMs: number): Fault[] {
  return [
    {
      name: "database-down",
      title: `database down for ${durationS} s, then back`,
      start: (s) => s.dbProxy.cut(),
      end: (s) => s.dbProxy.pass(),
    },
    {
      name: "storagesvc-down",
      title: `storagesvc down for ${durationS} s, then back`,
      start: (s) => s.storagesvcProxy.cut(),
      end: (s) => s.storagesvcProxy.pass(),
    },
    {
      // A hung process, not a refused connection: every call waits for UPSTREAM_TIMEOUT_MS.
      name: "frozen-storagesvc",
      title: `storagesvc frozen (SIGSTOP) for ${durationS} s, then SIGCONT`,
      start: async (s) => s.storagesvc.signal("SIGSTOP"),
      end: async (s) => s.storagesvc.signal("SIGCONT"),
    },
    {
      name: "database-slow",
      title: `database slow for ${durationS} s: every answer ${slowMs} ms late (UPSTREAM_TIMEOUT_MS ${upstreamTimeoutMs})`,
      start: (s) => s.dbProxy.delay(slowMs),
      end: (s) => s.dbProxy.pass(),
    },
  ];
}

function pctBooks(records: readonly RequestRecord[]): string {
  if (records.length === 0) return "–";
  return `${Math.round((100 * records.filter((r) => r.books).length) / records.length)}%`;
}

async function run(options: DrillOptions, signal: AbortSignal): Promise<number> {
  const began = Date.now();
  const progress = new Progress(Boolean(process.stderr.isTTY));
  const elapsed = () => `[${String(Math.round((Date.now() - began) / 1000)).padStart(3)} s]`;
  const logDir = join(ROOT, ".data", "drill-logs");
  mkdirSync(logDir, { recursive: true });
  const sinks = new Map<string, FileSink>();
  const sink = (service: string) => {
    let s = sinks.get(service);
    if (!s) {
      s = Bun.file(join(logDir, `${service}.log`)).writer();
      sinks.set(service, s);
    }
    return s;
  };

  const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", DB_POOL_MAX: process.env.DB_POOL_MAX ?? DRILL_POOL_MAX };
  const upstreamTimeoutMs = Number(process.env.UPSTREAM_TIMEOUT_MS ?? 2000) || 2000;
  const slowMs = upstreamTimeoutMs + 1000;
  const durationS = String(options.durationMs / 1000);
  const scenarios = faults(durationS, slowMs, upstreamTimeoutMs);

  progress.line(
    `drill: ${options.strategies.join(", ")} side by side, ${options.rate} req/s each (open loop), ` +
      `${scenarios.length} faults of ${durationS} s; logs in .data/drill-logs/`,
  );
  const stack = await startStack({
    root: ROOT,
    env,
    dataDir: join(ROOT, ".data", "pglite-drill"),
    storagesvcPort: 0,
    publicHost: "127.0.0.1",
    onLine: (service, line) => sink(service).write(`${line}\n`),
  });
  const records = new Map<string, RequestRecord[]>(options.strategies.map((s) => [s, []]));
  let load: Child | undefined;
  let sampler: MetricsSampler | undefined;
  let endedAt = Date.now();
  let loadStartedAt = Date.now();
  const windows: TimelineWindow[] = [];
  const results: ScenarioResult[] = [];
  try {
    progress.update(`${elapsed()} starting the database and storagesvc (${stack.database.display}) …`);
    await stack.ready;
    progress.update(`${elapsed()} starting ${options.strategies.length} booksvc …`);
    const booksvcs: RunningBooksvc[] = await Promise.all(
      options.strategies.map((strategy) =>
        stack.startBooksvc({ port: 0, name: `booksvc-${strategy}`, env: { RESILIENCE_STRATEGY: strategy } }),
      ),
    );

    loadStartedAt = Date.now();
    sampler = new MetricsSampler({
      targets: () => options.strategies.map((name, i) => ({ name, url: booksvcs[i]?.url ?? "" })),
      read: booksvcCounters,
      startedAt: loadStartedAt,
    }).start();
    load = startLoadWorker(
      "clients",
      {
        targets: options.strategies.map((s, i) => ({ name: s, url: `${booksvcs[i]?.url}/` })),
        load: { rate: options.rate },
        timeoutMs: options.clientTimeoutMs,
      },
      (record) => records.get(record.target)?.push(record),
      (line) => sink("clients").write(`${line}\n`),
    );

    const since = (from: number, to = Number.POSITIVE_INFINITY) => (strategy: string) =>
      (records.get(strategy) ?? []).filter((r) => r.startedAt >= from && r.startedAt < to);
    // The requests a fault touched: in flight at some moment of it (a request that began just
    // before the cut and hung on it counts, as the user waiting for it would say).
    const during = (from: number, to: number) => (strategy: string) =>
      (records.get(strategy) ?? []).filter((r) => r.startedAt < to && r.startedAt + r.latencyMs >= from);
    const freshSince = (from: number) =>
      options.strategies.every((s) => (records.get(s) ?? []).some((r) => r.fresh && r.startedAt >= from));

    // Warm-up: every cache filled with a fresh answer, every breaker closed.
    const warmStart = Date.now();
    while (Date.now() - warmStart < WARMUP_MS || !freshSince(warmStart)) {
      signal.throwIfAborted();
      if (Date.now() - warmStart > 30_000) throw new Error("no fresh books from every booksvc within 30 s of warm-up");
      progress.update(`${elapsed()} warm-up  ${options.strategies.map((s) => `${s} ${pctBooks(since(warmStart)(s))}`).join(" · ")}`);
      await Bun.sleep(200);
    }

    for (const fault of scenarios) {
      const faultStart = Date.now();
      await fault.start(stack);
      while (Date.now() - faultStart < options.durationMs) {
        signal.throwIfAborted();
        const left = Math.ceil((options.durationMs - (Date.now() - faultStart)) / 1000);
        progress.update(
          `${elapsed()} ${fault.name} ${left}s left  books: ${options.strategies.map((s) => `${s} ${pctBooks(since(faultStart)(s))}`).join(" · ")}`,
        );
        await Bun.sleep(200);
      }
      const faultEnd = Date.now();
      await fault.end(stack);
      windows.push({ name: fault.name, label: fault.name.replaceAll("-", " "), fromMs: faultStart - loadStartedAt, toMs: faultEnd - loadStartedAt });
      // Each booksvc's upstream calls over the recovery, to count what storagesvc gets in the
      // first second of fresh answers: with collapsing, a few calls per booksvc, not one per client.
      const callSamples: CallSample[][] = booksvcs.map(() => []);
      const sampleCalls = async (): Promise<void> => {
        const at = Date.now();
        const counters = await Promise.all(booksvcs.map((b) => booksvcCounters(b.url)));
        counters.forEach((c, i) => callSamples[i]?.push({ at, calls: c.calls }));
      };
      await sampleCalls();
      while (Date.now() - faultEnd < RECOVERY_MAX_MS && !freshSince(faultEnd)) {
        signal.throwIfAborted();
        progress.update(`${elapsed()} ${fault.name} over, waiting for fresh data …`);
        await Bun.sleep(100);
        await sampleCalls();
      }
      // One more second of samples: the last strategy's first second of fresh answers.
      const allFresh = Date.now();
      while (Date.now() - allFresh < FIRST_SECOND_MS + 100) {
        await Bun.sleep(100);
        await sampleCalls();
      }
      await Bun.sleep(SETTLE_MS);
      const result: ScenarioResult = {
        name: fault.name,
        title: fault.title,
        faultMs: faultEnd - faultStart,
        rows: options.strategies.map((s, i) => {
          const row = summarize(s, during(faultStart, faultEnd)(s), since(faultEnd)(s), faultEnd);
          const freshAt = faultEnd + (row.freshAfterMs ?? 0);
          return {
            ...row,
            upstreamCallsFirstSecond: callsBetween(callSamples[i] ?? [], freshAt, freshAt + FIRST_SECOND_MS),
            requestsFirstSecond: since(freshAt, freshAt + FIRST_SECOND_MS)(s).length,
          };
        }),
      };
      results.push(result);
      progress.line(`${elapsed()} ${fault.name} done`);
      if (!options.json) process.stdout.write(`\n${renderTable(result)}\n\n`);
    }
  } finally {
    endedAt = Date.now();
    await sampler?.stop();
    await load?.stop(5_000);
    await stack.stop();
    await Promise.all([...sinks.values()].map((s) => s.end()));
  }

  const seconds = Math.round((Date.now() - began) / 1000);
  const timeline = drillTimeline({ strategies: options.strategies, records, samples: sampler?.samples ?? new Map(), startedAt: loadStartedAt, endedAt, windows });
  if (options.report !== undefined) {
    const page = drillReportPage({ options, argv: process.argv.slice(2), env: process.env, database: stack.database.display, upstreamTimeoutMs, seconds, timeline, results });
    progress.line(`drill: report written to ${await writeReportHtml(options.report, page)}`);
  }
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          strategies: options.strategies,
          rate: options.rate,
          clientTimeoutMs: options.clientTimeoutMs,
          faultMs: options.durationMs,
          database: stack.database.display,
          seconds,
          scenarios: results,
          timeline,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(
      `${options.rate} req/s per strategy, open loop (each timed from when it was meant to leave), client timeout ${options.clientTimeoutMs / 1000} s; ` +
        `booksvc at default settings; drill took ${seconds} s.\n` +
        "books: answered 200 with the book list; fresh after: from the end of the fault to the first Cache-Status fwd=miss;\n" +
        "1st s: requests the clients started in the first second of fresh answers after the fault (after the breaker's probe, for the strategies that have one), and booksvc's upstream calls in it.\n",
    );
  }
  return 0;
}

if (import.meta.main) await runTool({ name: "drill", usage: USAGE, parse: parseDrillOptions, run });

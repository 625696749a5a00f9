/**
 * The catalogue at scale (issue 11): for each table size, a fresh database seeded with that many
 * books, storagesvc started against it and booksvc in front of that storagesvc, each its own
 * process; then the first page and a deep page (the 100 books after 90 % of the table) of every
 * table, through each service, under a short closed-loop load in rotated rounds, with each
 * process's RSS sampled while it is loaded. The targets are checked at the end.
 * Options: see scale-options.ts or --help.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { SEED_BOOKS } from "../../internal/storagesvc/index.ts";
import { binaryPath, ensureBinaries } from "../kit/binaries.ts";
import { createFreshDatabase } from "../kit/postgres.ts";
import { createEmptyBooksTable, seedBooks } from "../kit/seed-books.ts";
import { runTool } from "../kit/run-tool.ts";
import { formatTable } from "../kit/table.ts";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { type BenchProcess, readRssMiB, startReadyProcess } from "./processes.ts";
import { parseScaleOptions, SCALE_USAGE, type ScaleLoad, type ScaleOptions } from "./scale-options.ts";
import { type Check, checksText } from "./checks.ts";
import { type LoadSummary, summarizeRounds } from "./load-summary.ts";

export const SCALE_SERVICES = ["storagesvc", "booksvc"] as const;
export type ScaleService = (typeof SCALE_SERVICES)[number];

/** One service's figures on one table. */
export interface ServiceResult {
  first: LoadSummary;
  /** The deep page's figures; absent for tables too small to have one. */
  deep: LoadSummary | undefined;
  rssIdleMiB: number | undefined;
  /** The highest RSS sampled (every 100 ms) while this service was loaded. */
  rssUnderLoadMiB: number | undefined;
}

export interface TableResult {
  rows: number;
  /** How long seeding took (generate_series + ANALYZE); undefined when storagesvc seeded the article's two books. */
  seedMs: number | undefined;
  /** The deep page's `after`; absent for tables too small to have one. */
  deepAfter: number | undefined;
  services: Record<ScaleService, ServiceResult>;
}

/** Samples a process's RSS every `everyMs` until stopped; `stop()` gives the highest seen. */
function rssPeak(pid: number, everyMs = 100): { stop(): Promise<number | undefined> } {
  let peak: number | undefined;
  let sampling = Promise.resolve();
  const sample = (): void => {
    sampling = readRssMiB(pid).then((rss) => {
      if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
    });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return peak;
    },
  };
}

/** The 100 books after 90 % of the table (after=900000 for a million), when there are that many. */
export function deepPageAfter(rows: number): number | undefined {
  const after = Math.floor(rows * 0.9);
  return rows - after >= 100 ? after : undefined;
}

/** A fresh database seeded with `rows` books, storagesvc serving it and booksvc in front, ready for load. */
export interface PreparedTable {
  rows: number;
  /** How long seeding took (generate_series + ANALYZE); undefined when storagesvc seeded the article's two books. */
  seedMs: number | undefined;
  procs: Record<ScaleService, BenchProcess>;
  /** The pages to load through each service: the first, and the deep one when the table has it. */
  targets: { service: ScaleService; name: "first" | "deep"; path: string }[];
  deepAfter: number | undefined;
  rssIdleMiB: Record<ScaleService, number | undefined>;
  /** Stops both services and drops the database. */
  close(): Promise<void>;
}

/** Seeds a fresh database with `rows` books, starts storagesvc on it and booksvc in front of it. */
export async function prepareTable(options: {
  rows: number;
  commands: Record<ScaleService, string[]>;
  logLevel: string;
  logDir: string;
  log: (message: string) => void;
  signal?: AbortSignal;
}): Promise<PreparedTable> {
  const { rows, log } = options;
  const database = await createFreshDatabase("bookstore_scale");
  const started: BenchProcess[] = [];
  const close = async (): Promise<void> => {
    for (const proc of started.reverse()) await proc.child.stop(5_000);
    await database.drop();
  };
  try {
    let seedMs: number | undefined;
    // The article's two books are storagesvc's own seeding; any other size is seeded here.
    if (rows !== SEED_BOOKS.length) {
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        await createEmptyBooksTable(sql);
        seedMs = await seedBooks(sql, rows);
      } finally {
        await sql.end();
      }
      log(`${rows} rows seeded in ${(seedMs / 1000).toFixed(1)} s`);
    }

    const start = async (service: ScaleService, env: Record<string, string>): Promise<BenchProcess> => {
      const proc = await startReadyProcess({
        name: `${service}-${rows}`,
        command: options.commands[service],
        logDir: options.logDir,
        env: { LOG_LEVEL: options.logLevel, ...env },
        readyPath: "/readyz",
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      started.push(proc);
      return proc;
    };
    const storagesvc = await start("storagesvc", { DATABASE_URL: database.url });
    const booksvc = await start("booksvc", { STORAGESVC_URL: `${storagesvc.url}/books` });
    const deepAfter = deepPageAfter(rows);
    const targets: PreparedTable["targets"] = [];
    for (const [service, path] of [["storagesvc", "/books"], ["booksvc", "/"]] as const) {
      targets.push({ service, name: "first", path });
      if (deepAfter !== undefined) targets.push({ service, name: "deep", path: `${path}?after=${deepAfter}` });
    }
    const procs = { storagesvc, booksvc };
    for (const target of targets) {
      const books = (await (await fetch(`${procs[target.service].url}${target.path}`)).json()) as unknown[];
      if (books.length !== Math.min(100, rows)) throw new Error(`${target.service} ${target.path} answered ${books.length} books`);
    }
    const rssIdleMiB = { storagesvc: await storagesvc.rssMiB(), booksvc: await booksvc.rssMiB() };
    return { rows, seedMs, procs, targets, deepAfter, rssIdleMiB, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Loads every prepared table's pages through each service, one at a time, round after round in
 * varied order: drift on a shared machine (other work, GC, heat) then falls on every table alike
 * instead of on whichever was measured last. Each process's RSS is sampled while it is loaded.
 */
export async function measureTables(tables: readonly PreparedTable[], load: ScaleLoad, log: (message: string) => void, signal?: AbortSignal): Promise<TableResult[]> {
  const targets = tables.flatMap((table) => table.targets.map((target) => ({ table, ...target })));
  const results = new Map(targets.map((t) => [t, [] as LoadResult[]]));
  const rssPeaks = new Map<BenchProcess, number>();
  for (let round = 0; round < load.rounds; round++) {
    // Rotated, and reversed every other round, so no page always follows the same other page.
    const rotated = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of round % 2 === 0 ? rotated : rotated.reverse()) {
      signal?.throwIfAborted();
      const proc = target.table.procs[target.service];
      const rss = rssPeak(proc.child.pid);
      const result = await runLoadProcess(
        { url: `${proc.url}${target.path}`, concurrency: load.concurrency, warmupMs: load.warmupMs, durationMs: load.durationMs, serverPid: proc.child.pid },
        signal,
      );
      const peak = await rss.stop();
      if (peak !== undefined) rssPeaks.set(proc, Math.max(rssPeaks.get(proc) ?? 0, peak));
      results.get(target)?.push(result);
      const problems = result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : "";
      log(`round ${round + 1}/${load.rounds}, ${target.table.rows} rows, ${target.service} ${target.name} page: ${Math.round(result.requests / result.seconds)} req/s${problems}`);
    }
  }
  return tables.map((table) => {
    const of = (service: ScaleService, name: string) =>
      summarizeRounds(`${service} ${name}`, results.get(targets.find((t) => t.table === table && t.service === service && t.name === name)!) ?? []);
    const serviceResult = (service: ScaleService): ServiceResult => ({
      first: of(service, "first"),
      deep: table.deepAfter === undefined ? undefined : of(service, "deep"),
      rssIdleMiB: table.rssIdleMiB[service],
      rssUnderLoadMiB: rssPeaks.get(table.procs[service]),
    });
    return {
      rows: table.rows,
      seedMs: table.seedMs,
      deepAfter: table.deepAfter,
      services: { storagesvc: serviceResult("storagesvc"), booksvc: serviceResult("booksvc") },
    };
  });
}

/** Issue 11's targets, for each service and the sizes that were measured. */
export function checkScale(tables: readonly TableResult[]): Check[] {
  const checks: Check[] = [];
  const bySize = (rows: number) => tables.find((t) => t.rows === rows);
  const largest = tables.reduce<TableResult | undefined>((a, b) => (a === undefined || b.rows > a.rows ? b : a), undefined);
  const base = bySize(10_000);
  const tiny = bySize(SEED_BOOKS.length);
  if (largest === undefined) return checks;
  for (const service of SCALE_SERVICES) {
    const at = largest.services[service];
    if (base !== undefined && largest !== base) {
      const ratio = at.first.rps / base.services[service].first.rps;
      checks.push({ what: `${service}: first page at ${largest.rows} rows >= 0.8 x at 10000 rows`, actual: ratio.toFixed(2), ok: ratio >= 0.8 });
    }
    if (at.deep !== undefined) {
      const ratio = at.deep.rps / at.first.rps;
      checks.push({ what: `${service}: deep page (after=${largest.deepAfter}) >= 0.8 x first page at ${largest.rows} rows`, actual: ratio.toFixed(2), ok: ratio >= 0.8 });
    }
    const small = tiny?.services[service].rssUnderLoadMiB;
    if (at.rssUnderLoadMiB !== undefined && small !== undefined && largest !== tiny) {
      const grew = at.rssUnderLoadMiB - small;
      checks.push({ what: `${service}: RSS under load at ${largest.rows} rows within 20 MiB of at ${tiny?.rows} rows`, actual: `${grew >= 0 ? "+" : ""}${grew.toFixed(1)} MiB`, ok: grew <= 20 });
    }
  }
  return checks;
}

/** One line per table and service. */
export function scaleTable(tables: readonly TableResult[]): string {
  const header = ["rows", "seed", "service", "first req/s", "p50", "p99", "CPU/req", "deep after", "deep req/s", "p50", "p99", "CPU/req", "deep/first", "RSS idle", "RSS load"];
  const cpu = (target: LoadSummary | undefined) => (target?.serverCpuUsPerRequest === undefined ? "-" : `${Math.round(target.serverCpuUsPerRequest)} µs`);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const mib = (value: number | undefined) => (value === undefined ? "-" : `${value.toFixed(1)} MiB`);
  const lines = tables.flatMap((t) =>
    SCALE_SERVICES.map((service) => {
      const r = t.services[service];
      return [
        String(t.rows),
        t.seedMs === undefined ? "-" : `${(t.seedMs / 1000).toFixed(1)} s`,
        service,
        String(Math.round(r.first.rps)),
        ms(r.first.p50Ms),
        ms(r.first.p99Ms),
        cpu(r.first),
        t.deepAfter === undefined ? "-" : String(t.deepAfter),
        r.deep === undefined ? "-" : String(Math.round(r.deep.rps)),
        r.deep === undefined ? "-" : ms(r.deep.p50Ms),
        r.deep === undefined ? "-" : ms(r.deep.p99Ms),
        cpu(r.deep),
        r.deep === undefined ? "-" : (r.deep.rps / r.first.rps).toFixed(2),
        mib(r.rssIdleMiB),
        mib(r.rssUnderLoadMiB),
      ];
    }),
  );
  return formatTable(header, lines, { style: "markdown", alignLeft: new Set([2]) });
}

async function run(options: ScaleOptions, signal: AbortSignal): Promise<number> {
  const { load, logLevel } = options;
  const log = (message: string) => process.stderr.write(`scale: ${message}\n`);
  await ensureBinaries(SCALE_SERVICES, log);
  const logDir = await mkdtemp(join(tmpdir(), "bookstore-scale-"));
  const prepared: PreparedTable[] = [];
  let tables: TableResult[];
  try {
    const commands = { storagesvc: [binaryPath("storagesvc")], booksvc: [binaryPath("booksvc")] };
    for (const rows of options.rows) prepared.push(await prepareTable({ rows, commands, logLevel, logDir, log, signal }));
    tables = await measureTables(prepared, load, log, signal);
  } finally {
    for (const table of prepared.splice(0)) await table.close();
    await rm(logDir, { recursive: true, force: true });
  }
  const checks = checkScale(tables);
  if (options.json) {
    console.log(JSON.stringify({ load, log_level: logLevel, tables, checks }, null, 2));
  } else {
    console.log(
      `dist binaries, LOG_LEVEL=${logLevel}; closed loop on ${load.concurrency} keep-alive connections, ${load.rounds} rounds x (${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s) per page and service; ` +
        "req/s at saturation, and p50/p99 as service times at saturation (not what clients arriving at a steady rate see: bun run bench measures that)\n",
    );
    console.log(scaleTable(tables));
    console.log(`\n${checksText(checks)}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}

if (import.meta.main) await runTool({ name: "bench:scale", usage: SCALE_USAGE, parse: parseScaleOptions, run });

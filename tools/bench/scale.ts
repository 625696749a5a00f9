/**
 * storagesvc at scale (issue 11): for each table size, a fresh database seeded with that many books,
 * storagesvc started against it as its own process; then the first page and a deep page (the 100
 * books after 90 % of the table) of every table under a short closed-loop load, in rotated rounds,
 * with each storagesvc's RSS sampled while its pages are loaded. The issue's targets are checked
 * at the end.
 *
 *   bun tools/bench/scale.ts [--rows 2,10000,1000000] [--duration 3] [--warmup 1] [--rounds 2]
 *                              [--concurrency 16] [--log-level info] [--json]
 *
 * `prepareTable` and `measureTables` are the reusable pieces: a later `bun run bench --rows` can
 * prepare the tables, put booksvc in front of each storagesvc, and load both.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createBooksRepository, SEED_BOOKS } from "../../internal/storagesvc/index.ts";
import { freePort } from "../kit/free-port.ts";
import { createFreshDatabase } from "../kit/postgres.ts";
import { seedBooks } from "../kit/seed-books.ts";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { waitForHttp } from "../kit/wait.ts";
import { type BenchProcess, readRssMiB, REPO_ROOT, spawnProcess } from "./processes.ts";
import { aggregate, type Check, type TargetRow } from "./report.ts";

export interface ScaleLoad {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Passes over every table's pages, each in a rotated order. */
  rounds: number;
}

export interface TableResult {
  rows: number;
  /** How long seeding took (generate_series + ANALYZE); undefined when storagesvc seeded the article's two books. */
  seedMs: number | undefined;
  first: TargetRow;
  /** The deep page's `after`, and its row; absent for tables too small to have one. */
  deepAfter: number | undefined;
  deep: TargetRow | undefined;
  rssIdleMiB: number | undefined;
  /** The highest RSS sampled (every 100 ms) while load ran. */
  rssUnderLoadMiB: number | undefined;
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

/** A fresh database seeded with `rows` books and storagesvc serving it, ready for load. */
export interface PreparedTable {
  rows: number;
  /** How long seeding took (generate_series + ANALYZE); undefined when storagesvc seeded the article's two books. */
  seedMs: number | undefined;
  proc: BenchProcess;
  /** The pages to load: the first, and the deep one when the table has it. */
  targets: { name: "first" | "deep"; path: string }[];
  deepAfter: number | undefined;
  rssIdleMiB: number | undefined;
  /** Stops storagesvc and drops the database. */
  close(): Promise<void>;
}

/** Seeds a fresh database with `rows` books and starts storagesvc (`command`) on it. */
export async function prepareTable(options: {
  rows: number;
  command: string[];
  logLevel: string;
  logDir: string;
  log: (message: string) => void;
}): Promise<PreparedTable> {
  const { rows, log } = options;
  const database = await createFreshDatabase("bookstore_scale");
  let proc: BenchProcess | undefined;
  const close = async (): Promise<void> => {
    await proc?.child.stop(5_000);
    await database.drop();
  };
  try {
    let seedMs: number | undefined;
    // The article's two books are storagesvc's own seeding; any other size is seeded here.
    if (rows !== SEED_BOOKS.length) {
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        await createBooksRepository(sql).migrate();
        seedMs = await seedBooks(sql, rows);
      } finally {
        await sql.end();
      }
      log(`${rows} rows seeded in ${(seedMs / 1000).toFixed(1)} s`);
    }

    const port = await freePort();
    proc = spawnProcess({
      name: `storagesvc-${rows}`,
      command: options.command,
      port,
      logDir: options.logDir,
      env: { HTTP_PORT: String(port), LOG_LEVEL: options.logLevel, DATABASE_URL: database.url },
    });
    const running = proc;
    await waitForHttp(`${running.url}/readyz`, { timeoutMs: 20_000, child: running.child, intervalMs: 20 });
    const deepAfter = deepPageAfter(rows);
    const targets: PreparedTable["targets"] = [{ name: "first", path: "/books" }];
    if (deepAfter !== undefined) targets.push({ name: "deep", path: `/books?after=${deepAfter}` });
    for (const target of targets) {
      const books = (await (await fetch(`${running.url}${target.path}`)).json()) as unknown[];
      if (books.length !== Math.min(100, rows)) throw new Error(`${target.path} answered ${books.length} books`);
    }
    return { rows, seedMs, proc: running, targets, deepAfter, rssIdleMiB: await running.rssMiB(), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Loads every prepared table's pages, one at a time, round after round in varied order: drift on
 * a shared machine (other work, GC, heat) then falls on every table alike instead of on whichever
 * was measured last. Each storagesvc's RSS is sampled while its own pages are loaded.
 */
export async function measureTables(tables: readonly PreparedTable[], load: ScaleLoad, log: (message: string) => void): Promise<TableResult[]> {
  const targets = tables.flatMap((table) => table.targets.map((target) => ({ table, ...target })));
  const results = new Map(targets.map((t) => [t, [] as LoadResult[]]));
  const rssPeaks = new Map<PreparedTable, number>();
  for (let round = 0; round < load.rounds; round++) {
    // Rotated, and reversed every other round, so no page always follows the same other page.
    const rotated = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of round % 2 === 0 ? rotated : rotated.reverse()) {
      const rss = rssPeak(target.table.proc.child.pid);
      const result = await runLoadProcess({
        url: `${target.table.proc.url}${target.path}`,
        concurrency: load.concurrency,
        warmupMs: load.warmupMs,
        durationMs: load.durationMs,
        serverPid: target.table.proc.child.pid,
      });
      const peak = await rss.stop();
      if (peak !== undefined) rssPeaks.set(target.table, Math.max(rssPeaks.get(target.table) ?? 0, peak));
      results.get(target)?.push(result);
      const problems = result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : "";
      log(`round ${round + 1}/${load.rounds}, ${target.table.rows} rows, ${target.name} page: ${Math.round(result.requests / result.seconds)} req/s${problems}`);
    }
  }
  return tables.map((table) => {
    const of = (name: string) => row(name, results.get(targets.find((t) => t.table === table && t.name === name)!) ?? []);
    return {
      rows: table.rows,
      seedMs: table.seedMs,
      first: of("first"),
      deepAfter: table.deepAfter,
      deep: table.deepAfter === undefined ? undefined : of("deep"),
      rssIdleMiB: table.rssIdleMiB,
      rssUnderLoadMiB: rssPeaks.get(table),
    };
  });
}

function row(name: string, results: readonly LoadResult[]): TargetRow {
  return {
    ...aggregate(name, results),
    ratioToCeiling: undefined,
    ratioToStoragesvc: undefined,
    rssIdleMiB: undefined,
    rssAfterLoadMiB: undefined,
    concurrency: 0,
    upstreamCallsPerRequest: undefined,
  };
}

/** Issue 11's targets, for the sizes that were measured. */
export function checkScale(tables: readonly TableResult[]): Check[] {
  const checks: Check[] = [];
  const bySize = (rows: number) => tables.find((t) => t.rows === rows);
  const largest = tables.reduce<TableResult | undefined>((a, b) => (a === undefined || b.rows > a.rows ? b : a), undefined);
  const base = bySize(10_000);
  if (largest !== undefined && base !== undefined && largest !== base) {
    const ratio = largest.first.rps / base.first.rps;
    checks.push({ what: `first page at ${largest.rows} rows >= 0.8 x at 10000 rows`, actual: ratio.toFixed(2), ok: ratio >= 0.8 });
  }
  if (largest?.deep !== undefined) {
    const ratio = largest.deep.rps / largest.first.rps;
    checks.push({ what: `deep page (after=${largest.deepAfter}) >= 0.8 x first page at ${largest.rows} rows`, actual: ratio.toFixed(2), ok: ratio >= 0.8 });
  }
  const tiny = bySize(SEED_BOOKS.length);
  if (largest?.rssUnderLoadMiB !== undefined && tiny?.rssUnderLoadMiB !== undefined && largest !== tiny) {
    const grew = largest.rssUnderLoadMiB - tiny.rssUnderLoadMiB;
    checks.push({ what: `RSS under load at ${largest.rows} rows within 20 MiB of at ${tiny.rows} rows`, actual: `${grew >= 0 ? "+" : ""}${grew.toFixed(1)} MiB`, ok: grew <= 20 });
  }
  return checks;
}

export function scaleTable(tables: readonly TableResult[]): string {
  const header = ["rows", "seed", "first req/s", "p50", "p99", "CPU/req", "deep after", "deep req/s", "p50", "p99", "CPU/req", "deep/first", "RSS idle", "RSS load"];
  const cpu = (target: TargetRow | undefined) => (target?.serverCpuUsPerRequest === undefined ? "-" : `${Math.round(target.serverCpuUsPerRequest)} µs`);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const mib = (value: number | undefined) => (value === undefined ? "-" : `${value.toFixed(1)} MiB`);
  const lines = tables.map((t) => [
    String(t.rows),
    t.seedMs === undefined ? "-" : `${(t.seedMs / 1000).toFixed(1)} s`,
    String(Math.round(t.first.rps)),
    ms(t.first.p50Ms),
    ms(t.first.p99Ms),
    cpu(t.first),
    t.deepAfter === undefined ? "-" : String(t.deepAfter),
    t.deep === undefined ? "-" : String(Math.round(t.deep.rps)),
    t.deep === undefined ? "-" : ms(t.deep.p50Ms),
    t.deep === undefined ? "-" : ms(t.deep.p99Ms),
    cpu(t.deep),
    t.deep === undefined ? "-" : (t.deep.rps / t.first.rps).toFixed(2),
    mib(t.rssIdleMiB),
    mib(t.rssUnderLoadMiB),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  return [header, ...lines].map((cells) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ")).join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "2,10000,1000000" },
      duration: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "2" },
      concurrency: { type: "string", default: "16" },
      "log-level": { type: "string", default: "info" },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = values.rows.split(",").map(Number);
  const load: ScaleLoad = {
    concurrency: Number(values.concurrency),
    warmupMs: Number(values.warmup) * 1000,
    durationMs: Number(values.duration) * 1000,
    rounds: Number(values.rounds),
  };
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || Object.values(load).some((n) => !Number.isFinite(n) || n < 0)) {
    console.error("--rows needs whole numbers >= 1 separated by commas; --duration, --warmup, --rounds, --concurrency numbers");
    return 2;
  }
  const log = (message: string) => process.stderr.write(`scale: ${message}\n`);
  const logDir = await mkdtemp(join(tmpdir(), "bookstore-scale-"));
  const prepared: PreparedTable[] = [];
  const cleanup = async (): Promise<void> => {
    for (const table of prepared.splice(0)) await table.close();
    await rm(logDir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    log("interrupted; stopping storagesvc and dropping the databases");
    cleanup().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let tables: TableResult[];
  try {
    const command = [process.execPath, join(REPO_ROOT, "cmd", "storagesvc", "main.ts")];
    for (const rows of sizes) prepared.push(await prepareTable({ rows, command, logLevel: values["log-level"], logDir, log }));
    tables = await measureTables(prepared, load, log);
  } finally {
    await cleanup();
  }
  const checks = checkScale(tables);
  if (values.json) {
    console.log(JSON.stringify({ load, log_level: values["log-level"], tables, checks }, null, 2));
  } else {
    console.log(`storagesvc from source, LOG_LEVEL=${values["log-level"]}; ${load.concurrency} keep-alive connections, ${load.rounds} rounds x (${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s) per page\n`);
    console.log(scaleTable(tables));
    console.log(`\n${checks.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.what}: ${c.actual}`).join("\n")}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();

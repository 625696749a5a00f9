/**
 * `bun run bench:ab`: two or more builds or settings of booksvc against storagesvc direct, back to
 * back in rotated rounds, as ratios paired round by round. See AB_USAGE.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryPath, ensureBinaries } from "../kit/binaries.ts";
import { createFreshDatabase, type FreshDatabase } from "../kit/postgres.ts";
import { runTool } from "../kit/run-tool.ts";
import { AB_USAGE, type AbOptions, parseAbOptions, VARIANT_DEFAULT_ENV } from "./ab-options.ts";
import { type AbRound, abTable, summarizeAb } from "./ab-report.ts";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { type BenchProcess, startReadyProcess } from "./processes.ts";

const log = (message: string): void => {
  process.stderr.write(`bench:ab: ${message}\n`);
};

interface Target {
  name: string;
  proc: BenchProcess;
  path: string;
}

async function run(options: AbOptions, signal: AbortSignal): Promise<number> {
  await ensureBinaries(["storagesvc"], log);
  const logDir = await mkdtemp(join(tmpdir(), "bookstore-ab-"));
  const running: BenchProcess[] = [];
  let database: FreshDatabase | undefined;
  let failed = true;
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (databaseUrl === undefined) {
      database = await createFreshDatabase("bookstore_ab");
      databaseUrl = database.url;
    }
    const start = async (name: string, command: string[], env: Record<string, string>): Promise<BenchProcess> => {
      const proc = await startReadyProcess({ name, command, logDir, env: { LOG_LEVEL: options.logLevel, ...env }, readyPath: "/readyz", signal });
      running.push(proc);
      return proc;
    };
    const storagesvc = await start("storagesvc", [binaryPath("storagesvc")], { DATABASE_URL: databaseUrl });
    const targets: Target[] = [{ name: "storagesvc", proc: storagesvc, path: "/books" }];
    for (const variant of options.variants) {
      const env = { STORAGESVC_URL: `${storagesvc.url}/books`, ...VARIANT_DEFAULT_ENV, ...variant.env };
      targets.push({ name: variant.name, proc: await start(variant.name, variant.command, env), path: "/" });
    }

    const rounds: AbRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const results = new Map<string, LoadResult>();
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + round) % targets.length]!;
        const load = {
          url: `${target.proc.url}${target.path}`,
          concurrency: options.clients,
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
          serverPid: target.proc.child.pid,
        };
        const result = await runLoadProcess(load, signal);
        results.set(target.name, result);
        log(`round ${round + 1}/${options.rounds} ${target.name}: ${Math.round(result.requests / result.seconds)} req/s`);
      }
      const variants = Object.fromEntries(options.variants.map((v) => [v.name, results.get(v.name)!]));
      rounds.push({ storagesvc: results.get("storagesvc")!, variants });
    }

    const rows = summarizeAb(rounds, options.variants.map((v) => v.name));
    process.stdout.write(`${options.clients} clients, ${options.rounds} rounds x (${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s), LOG_LEVEL=${options.logLevel}\n\n${abTable(rows)}\n`);
    const withErrors = rows.filter((row) => row.errors > 0);
    failed = withErrors.length > 0;
    if (failed) log(`answers other than 2xx from ${withErrors.map((row) => row.name).join(", ")}: those ratios measured something else`);
    return failed ? 1 : 0;
  } finally {
    for (const proc of running.splice(0).reverse()) await proc.child.stop(5_000);
    await database?.drop();
    if (failed) log(`service logs kept in ${logDir}`);
    else await rm(logDir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runTool({ name: "bench:ab", usage: AB_USAGE, parse: parseAbOptions, run });

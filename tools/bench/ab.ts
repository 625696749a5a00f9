/**
 * `bun run bench:ab`: two or more builds or settings of booksvc against storagesvc direct, back to
 * back in rotated rounds, as ratios paired round by round. See AB_USAGE.
 */
import { binaryPath, ensureBinaries } from "../kit/binaries.ts";
import { runTool } from "../kit/run-tool.ts";
import { AB_USAGE, type AbOptions, parseAbOptions, VARIANT_DEFAULT_ENV } from "./ab-options.ts";
import { type AbRound, abTable, summarizeAb } from "./ab-report.ts";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { BenchRun } from "./bench-run.ts";
import type { BenchProcess } from "./processes.ts";

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
  const benchRun = await BenchRun.open("ab", log);
  let failed = true;
  try {
    const start = (name: string, command: string[], env: Record<string, string>): Promise<BenchProcess> =>
      benchRun.start({ name, command, env: { LOG_LEVEL: options.logLevel, ...env }, readyPath: "/readyz", signal });
    const storagesvc = await start("storagesvc", [binaryPath("storagesvc")], { DATABASE_URL: await benchRun.databaseUrl() });
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
    await benchRun.close(failed);
  }
}

if (import.meta.main) await runTool({ name: "bench:ab", usage: AB_USAGE, parse: parseAbOptions, run });

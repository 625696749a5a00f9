/**
 * `bun run bench`: the healthy path's throughput and latency, side by side in one run.
 *
 * Targets: a bare Bun server answering storagesvc's JSON (the ceiling), storagesvc direct, booksvc
 * in front of it with each strategy, and booksvc answering from its cache with storagesvc cut off
 * (a fault proxy in between, cut after warming). Every target runs as its own process; the load
 * generator is a separate `bun` process per measurement (tools/bench/load.ts). Rounds go over
 * the targets in rotated order so drift (thermal, noisy neighbours, GC) spreads over all of them,
 * and the rounds of a target are aggregated. Then, for each binary, start-to-first-200 (median of
 * several starts) and RSS idle / after load. `--json` prints it all as JSON; see --help.
 */
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { type FaultProxy, startFaultProxy } from "./faultproxy/index.ts";
import { binaryPath, ensureBinaries, type ServiceName as Service } from "./kit/binaries.ts";
import type { LoadResult } from "./bench/load.ts";
import { type BenchOptions, type BenchTarget, OPEN_LOOP_WARMUP_S, parseOptions, USAGE } from "./bench/options.ts";
import { BenchRun } from "./bench/bench-run.ts";
import { type BenchProcess, REPO_ROOT } from "./bench/processes.ts";
import { booksvcCounters } from "./kit/metrics.ts";
import { runTool } from "./kit/run-tool.ts";
import { waitUntil } from "./kit/wait.ts";
import { runLoadProcess } from "./bench/load-process.ts";
import { strategyNames } from "../internal/resilience/index.ts";
import { type Check, checksText } from "./bench/checks.ts";
import { summarizeRounds } from "./bench/load-summary.ts";
import { checkTargets, COLLAPSE_OFF_CLIENTS, startupTable, type ThroughputRow, throughputTable } from "./bench/report.ts";
import { compileBareServer, measureStartup, type StartupResult } from "./bench/startup.ts";

interface Target {
  name: string;
  proc: BenchProcess;
  path: string;
  expectHeader?: string;
  /** Keep-alive connections for this target; default the --concurrency option. */
  concurrency?: number;
  /** A booksvc: upstream calls per answer are read from its /metrics around each run. */
  booksvc?: boolean;
}

/** Clients of the collapsing rows besides the default: one client (no one to share with) and a crowd. */
const COLLAPSE_CLIENTS = [1, 256] as const;

const log = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};

async function machine(): Promise<Record<string, string | number>> {
  const cpuinfo = await Bun.file("/proc/cpuinfo").text().catch(() => "");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const nproc = (await Bun.$`nproc`.nothrow().quiet().text()).trim();
  return {
    nproc: Number(nproc) || cpus().length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpu_model: model,
    bun: Bun.version,
    kernel: (await Bun.$`uname -r`.nothrow().quiet().text()).trim(),
  };
}

function serviceCommand(service: Service, options: BenchOptions): string[] {
  if (!options.source) return [binaryPath(service)];
  const profile = options.profileDir === undefined ? [] : ["--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`];
  return [process.execPath, ...profile, join(REPO_ROOT, "cmd", service, "main.ts")];
}

/** Closed loop (no `rate`): as many requests as the target answers. Open loop: `rate` req/s, timed from each intended send. */
function loadTarget(target: Target, options: BenchOptions, signal: AbortSignal, rate?: number): Promise<LoadResult> {
  const load = {
    url: `${target.proc.url}${target.path}`,
    concurrency: target.concurrency ?? options.concurrency,
    warmupMs: (rate === undefined ? options.warmupS : OPEN_LOOP_WARMUP_S) * 1000,
    durationMs: options.durationS * 1000,
    ...(rate === undefined ? {} : { rate }),
    serverPid: target.proc.child.pid,
    ...(target.expectHeader === undefined ? {} : { expectHeader: target.expectHeader }),
  };
  return runLoadProcess(load, signal);
}

function callsPerRequest(counted: { calls: number; answers: number } | undefined): number | undefined {
  return counted === undefined || counted.answers === 0 ? undefined : counted.calls / counted.answers;
}

async function getOnce(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function run(options: BenchOptions, signal: AbortSignal): Promise<number> {
  const wanted = (name: BenchTarget): boolean => options.only.length === 0 || options.only.includes(name);
  const startedAt = performance.now();
  const info = await machine();
  log(`${info.nproc} cores, ${info.memory_gib} GiB, ${info.cpu_model}, bun ${info.bun}`);
  if (!options.source) await ensureBinaries(["storagesvc", "booksvc"], log);

  const benchRun = await BenchRun.open("bench", log);
  let proxy: FaultProxy | undefined;
  let failed = true;
  try {
    const databaseUrl = await benchRun.databaseUrl();
    const start = (name: string, service: Service | "ceiling", env: Record<string, string>, readyPath: string): Promise<BenchProcess> => {
      const command = service === "ceiling" ? [process.execPath, join(import.meta.dir, "bench", "ceiling.ts")] : serviceCommand(service, options);
      return benchRun.start({ name, command, env: { LOG_LEVEL: options.logLevel, ...env }, readyPath, signal });
    };

    const storagesvc = await start("storagesvc", "storagesvc", { DATABASE_URL: databaseUrl }, "/readyz");
    const books = await getOnce(`${storagesvc.url}/books`);
    if (books.status !== 200 || !Array.isArray(JSON.parse(books.text))) throw new Error(`storagesvc /books answered ${books.status}: ${books.text}`);
    const targets: Target[] = [];
    if (wanted("ceiling")) {
      targets.push({ name: "ceiling", proc: await start("ceiling", "ceiling", { CEILING_BODY: books.text }, "/"), path: "/books" });
    }
    if (wanted("storagesvc")) targets.push({ name: "storagesvc", proc: storagesvc, path: "/books" });
    // booksvc answers fresh: collapsed ("fwd=miss; collapsed") or not, both are fresh.
    const fresh = "cache-status: booksvc; fwd=miss";
    const booksvcEnv = (strategy: string, collapse: boolean) => ({
      STORAGESVC_URL: `${storagesvc.url}/books`,
      RESILIENCE_STRATEGY: strategy,
      COLLAPSE_REQUESTS: String(collapse),
    });
    for (const strategy of strategyNames) {
      const name = `booksvc-${strategy}` as const;
      if (!wanted(name)) continue;
      const proc = await start(name, "booksvc", booksvcEnv(strategy, true), "/readyz");
      targets.push({ name, proc, path: "/", expectHeader: fresh, booksvc: true });
    }
    if (wanted("collapsing")) {
      // Collapsing off beside on, at the default clients and at COLLAPSE_CLIENTS, with storagesvc direct at each.
      const off = await start("booksvc-combined-nocollapse", "booksvc", booksvcEnv("combined", false), "/readyz");
      const on = targets.find((t) => t.name === "booksvc-combined")?.proc ?? (await start("booksvc-combined", "booksvc", booksvcEnv("combined", true), "/readyz"));
      targets.push({ name: "booksvc-combined-nocollapse", proc: off, path: "/", expectHeader: fresh, booksvc: true });
      // Collapsing off (only) at the load where it measured 0.50-0.53 x storagesvc direct before collapsing existed.
      targets.push({ name: `storagesvc@${COLLAPSE_OFF_CLIENTS}`, proc: storagesvc, path: "/books", concurrency: COLLAPSE_OFF_CLIENTS });
      targets.push({
        name: `booksvc-combined-nocollapse@${COLLAPSE_OFF_CLIENTS}`,
        proc: off,
        path: "/",
        expectHeader: fresh,
        booksvc: true,
        concurrency: COLLAPSE_OFF_CLIENTS,
      });
      for (const clients of COLLAPSE_CLIENTS) {
        targets.push({ name: `storagesvc@${clients}`, proc: storagesvc, path: "/books", concurrency: clients });
        targets.push({ name: `booksvc-combined@${clients}`, proc: on, path: "/", expectHeader: fresh, booksvc: true, concurrency: clients });
        targets.push({ name: `booksvc-combined-nocollapse@${clients}`, proc: off, path: "/", expectHeader: fresh, booksvc: true, concurrency: clients });
      }
    }
    if (wanted("booksvc-cache")) {
      proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: storagesvc.port } });
      const proc = await start("booksvc-cache", "booksvc", { STORAGESVC_URL: `http://127.0.0.1:${proxy.port}/books`, RESILIENCE_STRATEGY: "combined" }, "/readyz");
      const warm = await getOnce(`${proc.url}/`);
      if (warm.status !== 200) throw new Error(`booksvc-cache warm-up answered ${warm.status}: ${warm.text}`);
      await proxy.cut();
      await waitUntil(
        "booksvc-cache never answered from its cache",
        async () => {
          const answer = await getOnce(`${proc.url}/`);
          const cacheStatus = answer.headers.get("cache-status");
          return (answer.status === 200 && cacheStatus === "booksvc; hit") || `${answer.status} ${cacheStatus}`;
        },
        { timeoutMs: 15_000, intervalMs: 50, signal },
      );
      targets.push({ name: "booksvc-cache", proc, path: "/", expectHeader: "cache-status: booksvc; hit" });
    }

    const rssIdle = new Map<string, number | undefined>();
    for (const target of targets) rssIdle.set(target.name, await target.proc.rssMiB());

    const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const openLoopResults = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const upstreamCalls = new Map<string, { calls: number; answers: number }>();
    for (let round = 0; round < options.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
      for (const target of order) {
        signal.throwIfAborted();
        const before = target.booksvc ? await booksvcCounters(target.proc.url) : undefined;
        const result = await loadTarget(target, options, signal);
        results.get(target.name)?.push(result);
        if (before !== undefined) {
          const after = await booksvcCounters(target.proc.url);
          const sum = upstreamCalls.get(target.name) ?? { calls: 0, answers: 0 };
          upstreamCalls.set(target.name, { calls: sum.calls + after.calls - before.calls, answers: sum.answers + after.answers - before.answers });
        }
        const problems = result.errors + result.unexpected > 0 ? `, ${result.errors} errors, ${result.unexpected} unexpected (${result.firstError})` : "";
        const capacity = result.requests / result.seconds;
        log(`round ${round + 1}/${options.rounds} ${target.name}: ${Math.round(capacity)} req/s closed loop, client ${result.clientCores.toFixed(2)} cores${problems}`);
        await Bun.sleep(200); // let the target drain its log buffer before the next run starts
        // Latency as clients arriving at a fixed rate see it, below the capacity just measured.
        const rate = options.rate ?? Math.max(1, Math.round(capacity * options.rateFraction));
        const open = await loadTarget(target, options, signal, rate);
        openLoopResults.get(target.name)?.push(open);
        const p99 = summarizeRounds(target.name, [open]).p99Ms;
        log(`round ${round + 1}/${options.rounds} ${target.name}: open loop at ${rate} req/s, p99 ${p99.toFixed(2)} ms, ${open.errors} errors`);
        await Bun.sleep(200);
      }
    }
    await Bun.sleep(300);
    const rows: ThroughputRow[] = [];
    for (const target of targets) {
      rows.push({
        ...summarizeRounds(target.name, results.get(target.name) ?? []),
        openLoop: summarizeRounds(target.name, openLoopResults.get(target.name) ?? []),
        ratioToCeiling: undefined,
        ratioToStoragesvc: undefined,
        rssIdleMiB: target.name === "ceiling" ? undefined : rssIdle.get(target.name),
        rssAfterLoadMiB: target.name === "ceiling" ? undefined : await target.proc.rssMiB(),
        concurrency: target.concurrency ?? options.concurrency,
        upstreamCallsPerRequest: callsPerRequest(upstreamCalls.get(target.name)),
      });
    }
    const ceiling = rows.find((r) => r.name === "ceiling");
    for (const row of rows) {
      if (ceiling && ceiling.rps > 0) row.ratioToCeiling = row.rps / ceiling.rps;
      // Against storagesvc direct at the same number of clients.
      const direct = rows.find((r) => r.name.startsWith("storagesvc") && r.concurrency === row.concurrency);
      if (direct && direct.rps > 0 && row.name.startsWith("booksvc-")) row.ratioToStoragesvc = row.rps / direct.rps;
    }

    // Only storagesvc stays up for the startup runs: booksvc's first answer needs it.
    await benchRun.stopAllBut(storagesvc);
    const startups: StartupResult[] = [];
    let bareStartup: StartupResult | undefined;
    if (options.starts > 0) {
      log(`start-to-first-200, ${options.starts} starts per binary`);
      if (!options.source) {
        bareStartup = await measureStartup({
          binary: "bare compiled Bun server (baseline)",
          command: [await compileBareServer(benchRun.logDir)],
          env: (port) => ({ HTTP_PORT: String(port), CEILING_BODY: "[]" }),
          mainPath: "/",
          starts: options.starts,
          signal,
        });
      }
      startups.push(
        await measureStartup({
          binary: options.source ? "storagesvc (source)" : "dist/storagesvc",
          command: serviceCommand("storagesvc", { ...options, profileDir: undefined }),
          env: (port) => ({ HTTP_PORT: String(port), LOG_LEVEL: options.logLevel, DATABASE_URL: databaseUrl }),
          mainPath: "/books",
          starts: options.starts,
          signal,
        }),
        await measureStartup({
          binary: options.source ? "booksvc (source)" : "dist/booksvc",
          command: serviceCommand("booksvc", { ...options, profileDir: undefined }),
          env: (port) => ({ HTTP_PORT: String(port), LOG_LEVEL: options.logLevel, STORAGESVC_URL: `${storagesvc.url}/books` }),
          mainPath: "/",
          starts: options.starts,
          signal,
        }),
      );
    }

    const checks: Check[] = checkTargets(rows, startups, bareStartup);
    const seconds = Math.round((performance.now() - startedAt) / 100) / 10;
    const rateSetting = options.rate === undefined ? `${options.rateFraction} x closed-loop req/s` : `${options.rate} req/s`;
    const settings = { duration_s: options.durationS, warmup_s: options.warmupS, concurrency: options.concurrency, open_loop_rate: rateSetting, rounds: options.rounds, log_level: options.logLevel, services: options.source ? "source" : "dist binaries", cache: "in-memory" };
    if (options.json) {
      console.log(JSON.stringify({ machine: info, settings, throughput: rows, startup: startups, bare_startup: bareStartup, checks, seconds }, null, 2));
    } else {
      console.log(`machine: ${info.nproc} cores (${info.cpu_model}), ${info.memory_gib} GiB RAM, bun ${info.bun}, linux ${info.kernel}`);
      console.log(
        `load: ${options.rounds} rounds per target, rotated order; each a closed loop on ${options.concurrency} keep-alive connections (${options.warmupS} s warm-up + ${options.durationS} s: req/s, CPU), ` +
          `then an open loop at ${rateSetting} on at most as many connections (${OPEN_LOOP_WARMUP_S} s + ${options.durationS} s: latencies from each intended send); ` +
          `services: ${settings.services}, LOG_LEVEL=${options.logLevel}, in-memory cache\n`,
      );
      console.log(throughputTable(rows));
      if (startups.length > 0) console.log(`\n${startupTable(bareStartup === undefined ? startups : [bareStartup, ...startups])}`);
      console.log(`\n${checksText(checks)}\n\n(${seconds} s)`);
    }
    failed = false;
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await benchRun.close(failed);
    await proxy?.close();
  }
}

if (import.meta.main) await runTool({ name: "bench", usage: USAGE, parse: parseOptions, run });

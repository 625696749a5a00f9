/**
 * `bun run drill:cluster`: the bookstore as a small cluster. 2 storagesvc and 3 booksvc replicas
 * (the dist/ binaries) behind HAProxy, one section per tier, clients calling HAProxy all along
 * while the drill restarts every replica one at a time, kills replicas, takes the database down
 * (starting a new booksvc replica in the middle of it), then Redis and the database together. Per
 * scenario: what the clients saw, in total and per replica that answered. See --help.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileSink } from "bun";
import { Progress } from "./drill/progress.ts";
import { Clients } from "./drill-cluster/clients.ts";
import { type Cluster, startCluster } from "./drill-cluster/cluster.ts";
import { findHaproxy } from "./drill-cluster/haproxy.ts";
import { CHECK_INTERVAL_MS, FALL, RETRIES, RISE, SERVED_BY_HEADER } from "./drill-cluster/haproxy-config.ts";
import { type ClusterDrillOptions, parseClusterDrillOptions, USAGE } from "./drill-cluster/options.ts";
import { missingPrerequisites } from "./drill-cluster/prerequisites.ts";
import { type ClusterScenarioResult, FRONT_TARGET, renderScenario, scenarioJson } from "./drill-cluster/report.ts";
import { runScenario } from "./drill-cluster/run-scenario.ts";
import { SCENARIOS } from "./drill-cluster/scenarios.ts";
import { ensureBinaries } from "./kit/binaries.ts";
import { booksvcCounters } from "./kit/metrics.ts";
import { clusterReportPage, clusterTimeline } from "./report/cluster-page.ts";
import { writeReportHtml } from "./report/html.ts";
import { MetricsSampler } from "./report/metrics-sampler.ts";
import { runTool } from "./kit/run-tool.ts";
import { waitUntil } from "./kit/wait.ts";

const ROOT = join(import.meta.dir, "..");
const BOOKSVC_REPLICAS = 3;
const SPARE_BOOKSVC_SLOTS = 1;
const STORAGESVC_REPLICAS = 2;

const EMBEDDED_PGLITE_WARNING =
  "the embedded PGlite runs every connection on one PostgreSQL session and interleaves the extended-protocol " +
  "messages of concurrent connections (electric-sql/pglite#1046): while a storagesvc replica starts, another " +
  "can answer 200 [] or 503. Set DATABASE_URL to a real PostgreSQL for numbers about the cluster itself.";

async function run(options: ClusterDrillOptions, signal: AbortSignal): Promise<number> {
  const began = Date.now();
  const progress = new Progress(Boolean(process.stderr.isTTY));
  const elapsed = () => `[${String(Math.round((Date.now() - began) / 1000)).padStart(3)} s]`;

  const haproxyInstall = await findHaproxy();
  const problems = missingPrerequisites(
    { haproxy: haproxyInstall && { version: haproxyInstall.version }, redisServer: Bun.which("redis-server") !== null },
    process.env,
  );
  if (problems.length > 0 || haproxyInstall === undefined) {
    for (const problem of problems) process.stderr.write(`drill:cluster: ${problem}\n`);
    return 1;
  }
  await ensureBinaries(["storagesvc", "booksvc"], (message) => progress.line(`drill:cluster: ${message}`));

  const workDir = await mkdtemp(join(tmpdir(), "bookstore-drill-cluster-"));
  const sinks = new Map<string, FileSink>();
  const sink = (name: string) => {
    let s = sinks.get(name);
    if (!s) {
      s = Bun.file(join(workDir, `${name}.log`)).writer();
      sinks.set(name, s);
    }
    return s;
  };
  const outageS = String(options.outageMs / 1000);
  progress.line(
    `drill:cluster: ${BOOKSVC_REPLICAS} booksvc (+${SPARE_BOOKSVC_SLOTS} spare slot) and ${STORAGESVC_REPLICAS} storagesvc replicas ` +
      `behind HAProxy ${haproxyInstall.version}, ${options.rate} req/s open loop, ${options.scenarios.length} scenarios, outages of ${outageS} s`,
  );

  let cluster: Cluster | undefined;
  const clients = new Clients({
    timeoutMs: options.clientTimeoutMs,
    onOtherLine: (line) => sink("clients").write(`${line}\n`),
  });
  const results: ClusterScenarioResult[] = [];
  const recoveredAt: number[] = [];
  const warnings: string[] = [];
  let sampler: MetricsSampler | undefined;
  let clientsStartedAt = Date.now();
  let endedAt = Date.now();
  let failed = true;
  try {
    progress.update(`${elapsed()} starting the database, Redis, HAProxy and the replicas …`);
    cluster = await startCluster({
      root: ROOT,
      env: process.env,
      dataDir: join(ROOT, ".data", "pglite-drill-cluster"),
      workDir,
      haproxyBinary: haproxyInstall.path,
      booksvcReplicas: BOOKSVC_REPLICAS,
      spareBooksvcSlots: SPARE_BOOKSVC_SLOTS,
      storagesvcReplicas: STORAGESVC_REPLICAS,
      onLine: (name, line) => sink(name).write(`${line}\n`),
    });
    const live = cluster;
    progress.line(`${elapsed()} cluster up: clients call ${live.frontUrl}; database: ${live.database.display}; Redis: ${live.redis.display}`);
    if (live.database.embedded && STORAGESVC_REPLICAS > 1) {
      warnings.push(EMBEDDED_PGLITE_WARNING);
      progress.line(`drill:cluster: warning: ${EMBEDDED_PGLITE_WARNING}`);
    }
    clientsStartedAt = Date.now();
    sampler = new MetricsSampler({
      targets: () => live.booksvc.filter((r) => r.running),
      read: booksvcCounters,
      startedAt: clientsStartedAt,
    }).start();
    clients.start(FRONT_TARGET, `${live.frontUrl}/`, options.rate, SERVED_BY_HEADER);

    // Warm-up: every replica has answered fresh books through HAProxy, so the cache holds them.
    const warmStart = Date.now();
    await waitUntil(
      "not every booksvc replica served fresh books through HAProxy",
      async () => {
        progress.update(`${elapsed()} warm-up: ${clients.records.length} requests`);
        if (Date.now() - warmStart < options.warmupMs) return "warming up";
        const waiting = live.booksvc.filter((r) => r.running && !clients.servedFresh(r.name, warmStart));
        return waiting.length === 0 ? true : `waiting for ${waiting.map((r) => r.name).join(", ")}`;
      },
      { timeoutMs: options.warmupMs + 30_000, intervalMs: 100, signal },
    );

    for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
      const result = await runScenario(scenario, {
        cluster: live,
        clients,
        outageMs: options.outageMs,
        killedMs: options.killedMs,
        outageS,
        signal,
        line: (text) => progress.line(`${elapsed()} ${text}`),
        status: (text) => progress.update(`${elapsed()} ${text}`),
      });
      results.push(result);
      recoveredAt.push(Date.now());
      // A replica that died without being told to is a failure of the drill, whatever the clients saw.
      const gone = [...live.booksvc, ...live.storagesvc].map((r) => r.exitedOnItsOwn()).filter((why) => why !== undefined);
      if (gone.length > 0) throw new Error(`during ${scenario.name}: ${gone.join("\n")}`);
      progress.line(`${elapsed()} ${scenario.name} done`);
      if (options.json) progress.line(`\n${renderScenario(result)}\n`);
      else process.stdout.write(`\n${renderScenario(result)}\n\n`);
    }
    failed = false;
  } finally {
    endedAt = Date.now();
    await sampler?.stop();
    await clients.stopAll();
    await cluster?.stop();
    await Promise.all([...sinks.values()].map((s) => s.end()));
    if (failed || options.keepLogs) progress.line(`drill:cluster: logs kept in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }

  const seconds = Math.round((Date.now() - began) / 1000);
  const setup = {
    booksvcReplicas: BOOKSVC_REPLICAS,
    spareBooksvcSlots: SPARE_BOOKSVC_SLOTS,
    storagesvcReplicas: STORAGESVC_REPLICAS,
    haproxy: haproxyInstall.version,
    database: cluster.database.display,
    redis: cluster.redis.display,
    shutdownDelayMs: cluster.shutdownDelayMs,
  };
  const timeline = clusterTimeline({
    records: clients.records,
    target: FRONT_TARGET,
    samples: sampler?.samples ?? new Map(),
    booksvcReplicas: cluster.booksvc.map((r) => r.name),
    results,
    startedAt: clientsStartedAt,
    endedAt,
  });
  if (options.report !== undefined) {
    const page = clusterReportPage({
      options,
      argv: process.argv.slice(2),
      env: process.env,
      setup: [
        ["replicas", `${BOOKSVC_REPLICAS} booksvc (+${SPARE_BOOKSVC_SLOTS} spare slot), ${STORAGESVC_REPLICAS} storagesvc; SHUTDOWN_DELAY_MS ${setup.shutdownDelayMs}`],
        ["HAProxy", `${setup.haproxy}: checks every ${CHECK_INTERVAL_MS} ms, out after ${FALL} failure, in after ${RISE} successes, ${RETRIES} retries`],
        ["database", setup.database],
        ["Redis", setup.redis],
      ],
      seconds,
      warnings,
      timeline,
      results: results.map((result, i) => ({ result, recoveredAt: recoveredAt[i] ?? endedAt })),
      group: FRONT_TARGET,
    });
    progress.line(`drill:cluster: report written to ${await writeReportHtml(options.report, page)}`);
  }
  if (options.json) {
    const { help: _help, json: _json, keepLogs: _keepLogs, report: _report, ...settings } = options;
    process.stdout.write(`${JSON.stringify({ ...settings, ...setup, seconds, warnings, scenarios: results.map(scenarioJson), timeline }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${options.rate} req/s through HAProxy, open loop (each timed from when it was meant to leave), client timeout ${options.clientTimeoutMs / 1000} s; ` +
        `${BOOKSVC_REPLICAS} booksvc and ${STORAGESVC_REPLICAS} storagesvc replicas (dist/ binaries, SHUTDOWN_DELAY_MS ${setup.shutdownDelayMs}) ` +
        `behind HAProxy ${haproxyInstall.version} (checks every ${CHECK_INTERVAL_MS} ms, out after ${FALL} failure, in after ${RISE} successes, ` +
        `${RETRIES} retries on another replica); database: ${setup.database}; Redis: ${setup.redis}; drill took ${seconds} s.\n` +
        "answered by: the replica HAProxy's X-Served-By named; books: 200 with the book list; " +
        "fresh after: from the end of the scenario to the first Cache-Status fwd=miss.\n" +
        warnings.map((w) => `warning: ${w}\n`).join(""),
    );
  }
  return 0;
}

if (import.meta.main) await runTool({ name: "drill:cluster", usage: USAGE, parse: parseClusterDrillOptions, run });

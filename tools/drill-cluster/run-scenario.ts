import { setTimeout as sleepFor } from "node:timers/promises";
import type { Child } from "../kit/child.ts";
import { waitUntil } from "../kit/wait.ts";
import { type Clients, directTarget } from "./clients.ts";
import { BOOKS_TIER, type Cluster, STORAGE_TIER } from "./cluster.ts";
import { checkTargets, type ClusterScenarioResult, counterDelta, FRONT_TARGET, firstAnswer, scenarioRows } from "./report.ts";
import type { Scenario, ScenarioContext } from "./scenarios.ts";

/** Requests per second to the replica started during the outage, directly. */
const DIRECT_RATE = 20;
/** After a scenario, wait at most this long for every replica to be UP and serve fresh books. */
const RECOVERY_MAX_MS = 30_000;
const SETTLE_MS = 1_000;

export interface RunScenarioDeps {
  cluster: Cluster;
  clients: Clients;
  outageMs: number;
  killedMs: number;
  outageS: string;
  signal: AbortSignal;
  /** Progress: a line that stays, and a status line that is rewritten. */
  line(text: string): void;
  status(text: string): void;
}

const pct = (part: number, whole: number) => (whole === 0 ? "–" : `${Math.round((100 * part) / whole)}%`);

/** Waits `ms`; rejects at once when `signal` aborts (Ctrl-C). */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => sleepFor(ms, undefined, { signal });

/** Whether, within RECOVERY_MAX_MS, every replica is UP in HAProxy and every booksvc served fresh books after `since`. */
async function recover(deps: RunScenarioDeps, since: number, name: string): Promise<boolean> {
  const { cluster, clients, signal } = deps;
  try {
    await waitUntil(
      "not recovered",
      async () => {
        const stats = await cluster.haproxy.stats();
        const slots = [
          ...cluster.booksvc.filter((r) => r.running).map((r) => [BOOKS_TIER, r.name] as const),
          ...cluster.storagesvc.map((r) => [STORAGE_TIER, r.name] as const),
        ];
        const down = slots.filter(([tier, replica]) => stats.find((s) => s.proxy === tier && s.name === replica)?.status !== "UP");
        const stale = cluster.booksvc.filter((r) => r.running && !clients.servedFresh(r.name, since));
        deps.status(`${name} over, waiting for every replica to be UP and fresh …`);
        if (down.length + stale.length === 0) return true;
        return `down: ${down.map(([, replica]) => replica).join(", ") || "none"}; no fresh answer yet: ${stale.map((r) => r.name).join(", ") || "none"}`;
      },
      { timeoutMs: RECOVERY_MAX_MS, intervalMs: 100, signal },
    );
    return true;
  } catch (error) {
    if (signal.aborted) throw error;
    deps.line(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/**
 * Runs one scenario while the clients keep calling HAProxy, waits until the cluster has recovered,
 * and measures what the clients saw during it: in total, per replica, and for a new replica.
 */
export async function runScenario(scenario: Scenario, deps: RunScenarioDeps): Promise<ClusterScenarioResult> {
  const { cluster, clients, signal } = deps;
  const events: ClusterScenarioResult["events"] = [];
  const directWorkers: Child[] = [];
  const before = await cluster.haproxy.stats();
  const start = Date.now();
  const ctx: ScenarioContext = {
    cluster,
    outageMs: deps.outageMs,
    killedMs: deps.killedMs,
    event: (text) => {
      events.push({ atMs: Date.now() - start, text });
      deps.line(`${scenario.name}: ${text}`);
    },
    directClients: (replica) => {
      directWorkers.push(clients.start(directTarget(replica.name), `${replica.url}/`, DIRECT_RATE));
    },
    answeredDirectlyAndThroughHaproxy: async (replica) => {
      await waitUntil(
        `${replica.name} answered no client both directly and through HAProxy`,
        async () => {
          const direct = clients.answered(replica.name, start, "direct");
          const front = clients.answered(replica.name, start, "through haproxy");
          return direct && front ? true : `direct: ${direct}, through HAProxy: ${front}`;
        },
        { timeoutMs: 20_000, intervalMs: 50, signal },
      );
    },
    sleep: (ms) => sleep(ms, signal),
  };
  const ticker = setInterval(() => {
    const seen = clients.throughHaproxySince(start);
    deps.status(`${scenario.name}: ${seen.length} requests, ${pct(seen.filter((r) => r.books).length, seen.length)} books`);
  }, 250);
  let findings: Awaited<ReturnType<Scenario["run"]>>;
  try {
    findings = await scenario.run(ctx);
  } finally {
    clearInterval(ticker);
  }
  const end = Date.now();
  const after = await cluster.haproxy.stats();
  const recovered = await recover(deps, end, scenario.name);
  await sleep(SETTLE_MS, signal);
  for (const worker of directWorkers) await worker.stop(5_000);

  const { records } = clients;
  const rows = scenarioRows(records, start, end);
  const added = findings.newReplica;
  const newReplica = added && {
    ...added,
    firstDirect: firstAnswer(records, (r) => r.target === directTarget(added.name)),
    firstViaHaproxy: firstAnswer(records, (r) => r.target === FRONT_TARGET && r.header === added.name),
  };
  return {
    name: scenario.name,
    title: scenario.title(deps.outageS),
    startedAt: start,
    faultMs: end - start,
    rows,
    events,
    haproxy: counterDelta(before, after),
    ...(newReplica ? { newReplica } : {}),
    recovered,
    targets: checkTargets(scenario.name, rows, newReplica),
  };
}

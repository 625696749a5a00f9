import { BOOKS_TIER, type Cluster, STORAGE_TIER } from "./cluster.ts";
import type { ScenarioName } from "./options.ts";
import type { Replica } from "./replica.ts";
import type { NewReplicaReport } from "./report.ts";

/** What a scenario knows of the replica it started; the runner adds its first answers from the records. */
export type NewReplicaStart = Omit<NewReplicaReport, "firstDirect" | "firstViaHaproxy">;

/** What a scenario may do to the cluster, and how it tells what it did. */
export interface ScenarioContext {
  readonly cluster: Cluster;
  readonly outageMs: number;
  readonly killedMs: number;
  /** Notes what just happened (kept with the scenario's result, shown as progress). */
  event(text: string): void;
  /** Starts clients calling `replica` directly, until the scenario's results are in. */
  directClients(replica: Replica): void;
  /** Resolves once `replica` has answered a client directly and one through HAProxy. */
  answeredDirectlyAndThroughHaproxy(replica: Replica): Promise<void>;
  /** Sleeps, unless the drill is interrupted. */
  sleep(ms: number): Promise<void>;
}

export interface Scenario {
  name: ScenarioName;
  title(outageS: string): string;
  /** Does the damage and the repair; the clients' requests in between are what the scenario measures. */
  run(ctx: ScenarioContext): Promise<{ newReplica?: NewReplicaStart }>;
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`);

/**
 * SIGTERM, as an orchestrator would send it; waits for the exit and for HAProxy to take the replica
 * out, starts a new process on the same port, and waits for its /readyz and for HAProxy to put it
 * back: only then may the next replica go.
 */
async function restartReplica(ctx: ScenarioContext, tier: string, replica: Replica): Promise<void> {
  const { haproxy } = ctx.cluster;
  const signalled = performance.now();
  const [exit, outMs] = await Promise.all([
    replica.stop().then((code) => ({ code, ms: performance.now() - signalled })),
    haproxy.waitForServer(tier, replica.name, "DOWN"),
  ]);
  const started = performance.now();
  replica.start();
  const readyMs = await replica.ready();
  await haproxy.waitForServer(tier, replica.name, "UP");
  ctx.event(
    `${replica.name}: SIGTERM; out of HAProxy after ${ms(outMs)}, exited ${exit.code} after ${ms(exit.ms)}; ` +
      `new process ready after ${ms(readyMs)}, UP in HAProxy after ${ms(performance.now() - started)}`,
  );
}

/** SIGKILL; the replica stays dead for `killedMs` (HAProxy notices on its own), then starts again. */
async function killReplica(ctx: ScenarioContext, tier: string, replica: Replica): Promise<void> {
  const { haproxy } = ctx.cluster;
  const killed = performance.now();
  const [, outMs] = await Promise.all([replica.kill(), haproxy.waitForServer(tier, replica.name, "DOWN")]);
  ctx.event(`${replica.name}: SIGKILL; out of HAProxy after ${ms(outMs)}`);
  await ctx.sleep(Math.max(0, ctx.killedMs - (performance.now() - killed)));
  const started = performance.now();
  replica.start();
  const readyMs = await replica.ready();
  await haproxy.waitForServer(tier, replica.name, "UP");
  ctx.event(`${replica.name}: started again; ready after ${ms(readyMs)}, UP in HAProxy after ${ms(performance.now() - started)}`);
}

const running = (replicas: readonly Replica[]) => replicas.filter((r) => r.running);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "rolling-restart-booksvc",
    title: () => "rolling restart of every booksvc replica, one at a time (SIGTERM, new process on the same port)",
    async run(ctx) {
      for (const replica of running(ctx.cluster.booksvc)) await restartReplica(ctx, BOOKS_TIER, replica);
      return {};
    },
  },
  {
    name: "rolling-restart-storagesvc",
    title: () => "rolling restart of every storagesvc replica, one at a time (SIGTERM, new process on the same port)",
    async run(ctx) {
      for (const replica of running(ctx.cluster.storagesvc)) await restartReplica(ctx, STORAGE_TIER, replica);
      return {};
    },
  },
  {
    name: "kill-booksvc",
    title: () => "one booksvc replica killed with SIGKILL, then started again",
    async run(ctx) {
      const [victim] = running(ctx.cluster.booksvc);
      if (victim) await killReplica(ctx, BOOKS_TIER, victim);
      return {};
    },
  },
  {
    name: "kill-storagesvc",
    title: () => "one storagesvc replica killed with SIGKILL, then started again",
    async run(ctx) {
      const [victim] = running(ctx.cluster.storagesvc);
      if (victim) await killReplica(ctx, STORAGE_TIER, victim);
      return {};
    },
  },
  {
    name: "database-down",
    title: (outageS) => `database down for ${outageS} s, a new booksvc replica started in the middle of it`,
    async run(ctx) {
      const { cluster } = ctx;
      const outageStart = performance.now();
      const outageLeft = () => Math.max(0, ctx.outageMs - (performance.now() - outageStart));
      await cluster.database.proxy.cut();
      ctx.event("database cut");
      try {
        await ctx.sleep(ctx.outageMs / 2);
        const spare = cluster.booksvc.find((r) => !r.running);
        if (spare === undefined) {
          ctx.event("no spare booksvc slot left: no new replica this time");
          await ctx.sleep(outageLeft());
          return {};
        }
        const started = performance.now();
        spare.start();
        const readyMs = await spare.ready();
        ctx.directClients(spare);
        ctx.event(`${spare.name} started in a spare HAProxy slot; ready after ${ms(readyMs)}, clients call it directly too`);
        await cluster.haproxy.waitForServer(BOOKS_TIER, spare.name, "UP");
        const upMs = performance.now() - started;
        ctx.event(`${spare.name} UP in HAProxy after ${ms(upMs)}`);
        // However short the outage asked, the new replica serves in it, directly and through HAProxy.
        await ctx.answeredDirectlyAndThroughHaproxy(spare);
        await ctx.sleep(outageLeft());
        return { newReplica: { name: spare.name, startedAfterMs: started - outageStart, readyMs, upInHaproxyMs: upMs } };
      } finally {
        await cluster.database.proxy.pass();
        ctx.event("database back");
      }
    },
  },
  {
    name: "redis-and-database-down",
    title: (outageS) => `Redis and the database down together for ${outageS} s`,
    async run(ctx) {
      const { cluster } = ctx;
      await Promise.all([cluster.redis.down(), cluster.database.proxy.cut()]);
      ctx.event("Redis and the database down");
      try {
        await ctx.sleep(ctx.outageMs);
      } finally {
        await Promise.all([cluster.redis.up(), cluster.database.proxy.pass()]);
        ctx.event("Redis and the database back");
      }
      return {};
    },
  },
];

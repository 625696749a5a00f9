// drill:ha's Redis scenarios: Redis Sentinel (1 master, 1 replica, 3 sentinels) and a 6-node Redis
// Cluster, each with its master killed while storagesvc is down. The runner (tools/drill-ha.ts)
// imports `redisScenarios`.
import { Cluster } from "ioredis";
import { keySlot } from "../../internal/recache/index.ts";
import { startRedisCluster } from "../kit/redis-cluster.ts";
import { startSentinelTopology } from "../kit/redis-sentinel.ts";
import type { ThrowawayRedis } from "../kit/redis-server.ts";
import { type RedisUnderTest, runRedisFailover } from "./redis-failover.ts";
import type { HaScenario } from "./scenario.ts";

/** Failure detection as an operator would tune it on a LAN: a node silent for a second is down. */
const DOWN_AFTER_MS = 1000;

async function sentinelUnderTest(): Promise<RedisUnderTest> {
  const topology = await startSentinelTopology({ replicas: 1, sentinels: 3, downAfterMs: DOWN_AFTER_MS });
  return {
    env: { REDIS_SENTINELS: topology.sentinelList, REDIS_SENTINEL_NAME: topology.name },
    async killMaster() {
      const master = await topology.currentMaster();
      await topology.server(master).kill();
      return master;
    },
    async waitForFailover(killed) {
      return (await topology.waitForNewMaster(killed)).addr;
    },
    async read(key) {
      return topology.admin(await topology.currentMaster()).get(key);
    },
    close: () => topology.close(),
  };
}

async function clusterUnderTest(): Promise<RedisUnderTest> {
  const cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: DOWN_AFTER_MS });
  const admin = new Cluster(cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), { redisOptions: { connectTimeout: 1000 } });
  admin.on("error", () => {}); // the killed node: reads retry on the others
  // Every key of booksvc's pages sits in the slot of the default CACHE_KEY.
  const slot = keySlot("booksvc:books");
  let killedNode: ThrowawayRedis | undefined;
  return {
    env: { REDIS_CLUSTER_NODES: cluster.nodeList },
    async killMaster() {
      killedNode = await cluster.masterOf(slot);
      await killedNode.kill();
      return killedNode.addr;
    },
    async waitForFailover() {
      if (killedNode === undefined) throw new Error("no master was killed");
      return (await cluster.waitForNewMaster(slot, killedNode)).node.addr;
    },
    read: (key) => admin.get(key),
    async close() {
      admin.disconnect();
      await cluster.close();
    },
  };
}

export const redisScenarios: HaScenario[] = [
  {
    name: "redis-sentinel",
    run: (ctx) =>
      runRedisFailover(
        { name: "redis-sentinel", title: "Redis Sentinel (1 master, 1 replica, 3 sentinels): master killed while storagesvc is down", start: sentinelUnderTest },
        ctx,
      ),
  },
  {
    name: "redis-cluster",
    run: (ctx) =>
      runRedisFailover(
        { name: "redis-cluster", title: "Redis Cluster (3 masters, 3 replicas): the master of booksvc's slot killed while storagesvc is down", start: clusterUnderTest },
        ctx,
      ),
  },
];

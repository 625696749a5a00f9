import type { Redis } from "ioredis";
import { Child, definedEnv } from "./child.ts";
import { RedisAdmins } from "./redis-admin.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "./redis-server.ts";
import { waitUntil } from "./wait.ts";

/** A Redis Cluster on loopback: masters, a replica each, every node a throwaway redis-server. */
export interface RedisClusterTopology {
  readonly nodes: readonly ThrowawayRedis[];
  /** `127.0.0.1:p1,…`: every node, as REDIS_CLUSTER_NODES takes them. */
  readonly nodeList: string;
  /** The node serving `slot` as master now, as a live node's `CLUSTER NODES` says. */
  masterOf(slot: number): Promise<ThrowawayRedis>;
  /** `CLUSTER KEYSLOT key`, asked of a live node. */
  keySlot(key: string): Promise<number>;
  /**
   * Waits until a node other than `previous` serves `slot` as master and every live node says
   * `cluster_state:ok`; returns that node and how long it took.
   */
  waitForNewMaster(slot: number, previous: ThrowawayRedis, timeoutMs?: number): Promise<{ node: ThrowawayRedis; ms: number }>;
  /** An admin connection to one node (no command timeout); closed by `close()`. */
  admin(node: ThrowawayRedis): Redis;
  close(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Default 3 (with a replica each: 6 nodes). */
  masters?: number;
  /** How long a node must be unreachable before it counts as failed (`cluster-node-timeout`). Default 1000 ms. */
  nodeTimeoutMs?: number;
  /** `requirepass` and `masterauth` of every node. */
  password?: string;
}

/**
 * Starts `2 × masters` redis-servers with `--cluster-enabled yes` on free ports, joins them with
 * `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, and waits until every node
 * says `cluster_state:ok` and every replica is in sync. Call `close()` in `finally`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterTopology> {
  const { masters = 3, nodeTimeoutMs = 1000, password } = options;
  const auth = password === undefined ? [] : ["--requirepass", password, "--masterauth", password];
  const nodes: ThrowawayRedis[] = [];
  const admins = new RedisAdmins();
  const close = async () => {
    admins.closeAll();
    await Promise.all(nodes.map((n) => n.close()));
  };
  const admin = (node: ThrowawayRedis): Redis => admins.get(node.port, password);
  const live = () => nodes.filter((n) => n.running);
  const askLive = async <T>(ask: (client: Redis) => Promise<T>): Promise<T> => {
    const node = live()[0];
    if (node === undefined) throw new Error("no cluster node is running");
    return ask(admin(node));
  };

  try {
    for (let i = 0; i < masters * 2; i++) {
      nodes.push(
        await startThrowawayRedis({
          args: [...auth, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", String(nodeTimeoutMs)],
        }),
      );
    }
    const create = Child.start({
      name: "redis-cli --cluster create",
      command: [
        "redis-cli",
        ...(password === undefined ? [] : ["--no-auth-warning", "-a", password]),
        "--cluster",
        "create",
        ...nodes.map((n) => n.addr),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      env: definedEnv({ PATH: process.env.PATH, HOME: process.env.HOME }),
    });
    const code = await create.exited;
    if (code !== 0) throw new Error(`redis-cli --cluster create exited ${code}:\n${create.tail()}`);
    await waitUntil(
      "the cluster did not become ok with every replica in sync",
      async () => {
        for (const node of nodes) {
          const info = await admin(node).cluster("INFO");
          if (!/cluster_state:ok/.test(String(info))) return `${node.addr}: not ok yet`;
          const replication = await admin(node).info("replication");
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return `${node.addr}: replica not in sync`;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    const masterOf = async (slot: number): Promise<ThrowawayRedis> => {
      const text = String(await askLive((c) => c.cluster("NODES")));
      for (const line of text.split("\n")) {
        const [, address, flags, , , , , linkState, ...ranges] = line.split(" ");
        if (!address || !flags?.includes("master") || flags.includes("fail") || linkState !== "connected") continue;
        const port = Number(address.slice(address.lastIndexOf(":") + 1).split("@")[0]);
        const serves = ranges.some((range: string) => {
          const [from, to = from] = range.split("-").map(Number);
          return from !== undefined && to !== undefined && slot >= from && slot <= to;
        });
        const node = nodes.find((n) => n.port === port);
        if (serves && node) return node;
      }
      throw new Error(`no live master serves slot ${slot}`);
    };
    return {
      nodes,
      nodeList: nodes.map((n) => n.addr).join(","),
      masterOf,
      keySlot: (key) => askLive((c) => c.cluster("KEYSLOT", key)),
      async waitForNewMaster(slot, previous, timeoutMs = 30_000) {
        let node = previous;
        const ms = await waitUntil(
          `no replica took over slot ${slot} from ${previous.addr}`,
          async () => {
            const now = await masterOf(slot);
            if (now === previous) return `${previous.addr} still serves it`;
            for (const n of live()) if (!/cluster_state:ok/.test(String(await admin(n).cluster("INFO")))) return `${n.addr}: cluster_state not ok`;
            node = now;
            return true;
          },
          { timeoutMs, intervalMs: 50 },
        );
        return { node, ms };
      },
      admin,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

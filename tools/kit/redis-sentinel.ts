import type { Redis } from "ioredis";
import { RedisAdmins } from "./redis-admin.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "./redis-server.ts";
import { waitUntil } from "./wait.ts";

/** A Redis Sentinel topology on loopback: one master, its replicas and the sentinels watching them. */
export interface SentinelTopology {
  /** The master group's name (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** The servers, the first one the master at start: which one is master now, `currentMaster()` says. */
  readonly servers: readonly ThrowawayRedis[];
  readonly sentinels: readonly ThrowawayRedis[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…`: the sentinels, as REDIS_SENTINELS takes them. */
  readonly sentinelList: string;
  /** `host:port` of the master as the sentinels report it now. */
  currentMaster(): Promise<string>;
  /**
   * Waits until every sentinel reports a master other than `previous` (the failover done) and that
   * server says it is a master; returns its address and how long that took.
   */
  waitForNewMaster(previous: string, timeoutMs?: number): Promise<{ addr: string; ms: number }>;
  /** The server at `addr` (`127.0.0.1:port`). */
  server(addr: string): ThrowawayRedis;
  /** An admin connection to the server at `addr` (no command timeout); closed by `close()`. */
  admin(addr: string): Redis;
  close(): Promise<void>;
}

export interface SentinelTopologyOptions {
  /** Default 1. */
  replicas?: number;
  /** Default 3 (quorum 2). */
  sentinels?: number;
  /** How long the master must be unreachable before the sentinels call it down. Default 1000 ms. */
  downAfterMs?: number;
  /** `requirepass` of every server (and `masterauth`, `sentinel auth-pass`); the sentinels themselves need none. */
  password?: string;
  /** Default `mymaster`. */
  name?: string;
}

/**
 * Starts `1 + replicas` redis-servers (the first the master, the others `--replicaof` it) and
 * `sentinels` sentinels (`redis-server <config> --sentinel`, quorum a majority) on free ports,
 * and waits until every sentinel knows the replicas and the other sentinels, so a failover can
 * happen. Call `close()` in `finally`.
 */
export async function startSentinelTopology(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
  const { replicas = 1, sentinels: sentinelCount = 3, downAfterMs = 1000, password, name = "mymaster" } = options;
  const auth = password === undefined ? [] : ["--requirepass", password, "--masterauth", password];
  const started: ThrowawayRedis[] = [];
  const admins = new RedisAdmins();
  const close = async () => {
    admins.closeAll();
    await Promise.all(started.map((r) => r.close()));
  };
  // Every server listens on 127.0.0.1 (see startThrowawayRedis): the port names it.
  const admin = (addr: string, forSentinel = false): Redis =>
    admins.get(Number(addr.slice(addr.lastIndexOf(":") + 1)), forSentinel ? undefined : password);

  try {
    const master = await startThrowawayRedis({ args: auth });
    started.push(master);
    const servers = [master];
    for (let i = 0; i < replicas; i++) {
      const replica = await startThrowawayRedis({ args: [...auth, "--replicaof", "127.0.0.1", String(master.port)] });
      started.push(replica);
      servers.push(replica);
    }
    const quorum = Math.floor(sentinelCount / 2) + 1;
    const sentinels: ThrowawayRedis[] = [];
    for (let i = 0; i < sentinelCount; i++) {
      const sentinel = await startThrowawayRedis({
        sentinel: true,
        config: [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${Math.max(3 * downAfterMs, 3000)}`,
          `sentinel parallel-syncs ${name} 1`,
          ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
        ],
      });
      started.push(sentinel);
      sentinels.push(sentinel);
    }

    const sentinelAdmin = (s: ThrowawayRedis) => admin(s.addr, true);
    const reportedMaster = async (s: ThrowawayRedis): Promise<string> => {
      const [host, port] = (await sentinelAdmin(s).call("SENTINEL", "get-master-addr-by-name", name)) as [string, string];
      return `${host}:${port}`;
    };
    // Sentinels learn the replicas from the master's INFO and each other from hello messages (every 2 s).
    await waitUntil(
      "the sentinels did not discover the replicas and each other",
      async () => {
        for (const s of sentinels) {
          const known = (await sentinelAdmin(s).call("SENTINEL", "replicas", name)) as unknown[];
          const peers = (await sentinelAdmin(s).call("SENTINEL", "sentinels", name)) as unknown[];
          if (known.length < replicas || peers.length < sentinelCount - 1) return `${s.addr}: ${known.length} replicas, ${peers.length} peers`;
        }
        const link = await admin(servers[1]?.addr ?? master.addr).info("replication");
        return replicas === 0 || /master_link_status:up/.test(link) ? true : "replica not in sync yet";
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    const server = (addr: string) => {
      const found = servers.find((s) => s.addr === addr);
      if (!found) throw new Error(`no server at ${addr}`);
      return found;
    };
    return {
      name,
      servers,
      sentinels,
      sentinelList: sentinels.map((s) => s.addr).join(","),
      currentMaster: () => reportedMaster(sentinels[0]!),
      async waitForNewMaster(previous, timeoutMs = 30_000) {
        let addr = previous;
        const ms = await waitUntil(
          `the sentinels did not promote a new master in place of ${previous}`,
          async () => {
            const reported = await Promise.all(sentinels.filter((s) => s.running).map(reportedMaster));
            const [first] = reported;
            if (first === undefined || first === previous || reported.some((r) => r !== first)) return `sentinels report ${reported.join(", ")}`;
            const role = (await admin(first).call("ROLE")) as [string];
            if (role[0] !== "master") return `${first} is still ${role[0]}`;
            addr = first;
            return true;
          },
          { timeoutMs, intervalMs: 50 },
        );
        return { addr, ms };
      },
      server,
      admin: (addr) => admin(addr),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

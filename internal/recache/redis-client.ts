import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { CACHE_BUDGET_MS } from "./cache.ts";

/** A server address, as the Sentinel and Cluster lists give them. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** How long a failing connection waits before the next try: growing from 50 ms, capped. */
function reconnectDelay(maxMs: number): (times: number) => number {
  return (times) => Math.min(50 * 2 ** Math.min(times, 10), maxMs);
}

/** What every client takes besides where Redis is. */
interface ClientTuning {
  /** Upper bound on one command, connected or not. Default `CACHE_BUDGET_MS` (the contract's 250 ms). */
  commandTimeoutMs?: number;
  /** Limit on establishing one TCP connection. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Cap on the delay between reconnection attempts. Default 1000 ms. */
  maxReconnectDelayMs?: number;
  /** REDIS_PASSWORD: for the server (`addr`), the master and replicas (`sentinels`), every node (Cluster). A URL's own password wins. */
  password?: string;
  /**
   * Called with the first connection error of each outage (at start-up, or
   * after the client was ready), not with every failed reconnection attempt,
   * so a long outage logs one line instead of a flood.
   */
  onError: (err: Error) => void;
  /** Called when the connection becomes ready again after `onError` was reported. */
  onReady?: () => void;
}

export interface RedisClientOptions extends ClientTuning {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (REDIS_URL). Give exactly one of `url`, `addr`, `sentinels`. */
  url?: string;
  /** `host:port` (REDIS_ADDR, the article's form); `[::1]:6379` for IPv6. */
  addr?: string;
  /** REDIS_SENTINELS: the client asks them for the master of `sentinelName` and follows its failovers. */
  sentinels?: readonly RedisNode[];
  /** REDIS_SENTINEL_NAME. Default `mymaster`. */
  sentinelName?: string;
}

/**
 * Parses REDIS_ADDR: `host:port`, or `[v6addr]:port`. Throws `TypeError` with
 * a message saying what is accepted.
 */
export function parseRedisAddr(addr: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s/[\]]+)):(\d{1,5})$/.exec(addr.trim());
  const port = match ? Number(match[3]) : NaN;
  const host = match ? (match[1] ?? match[2]) : undefined;
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`expected host:port (e.g. localhost:6379), got ${JSON.stringify(addr)}`);
  }
  return { host, port };
}

/**
 * The options every connection to one server gets, for a cache that must never slow the request
 * path down:
 *
 * - `enableOfflineQueue: false`: while disconnected a command fails at once
 *   ("Stream isn't writeable…") instead of waiting in a queue for a reconnect;
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops
 *   is rejected at the first reconnection attempt, never re-sent;
 *   `autoResendUnfulfilledCommands: false` for the same reason;
 * - `commandTimeout`: a frozen server (accepting, never answering) costs at
 *   most `commandTimeoutMs` per call;
 * - reconnection forever with a capped, growing delay;
 * - `lazyConnect: false`: the client connects at once. With the offline
 *   queue disabled, a lazy client would fail its first command (ioredis starts
 *   connecting on that command but cannot send it yet);
 * - a write answered `READONLY` (a master demoted by a failover while this connection stayed
 *   open) drops the connection, so the next one asks where the master is now.
 */
function serverOptions(tuning: ClientTuning): RedisOptions {
  const { commandTimeoutMs = CACHE_BUDGET_MS, connectTimeoutMs = 1000, maxReconnectDelayMs = 1000 } = tuning;
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    lazyConnect: false,
    retryStrategy: reconnectDelay(maxReconnectDelayMs),
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
  };
}

/**
 * Builds an ioredis client for one server (`url`, `addr`) or for the master that Redis Sentinel
 * names (`sentinels`), configured for a cache that must never slow the request path down (see
 * `serverOptions`). The Sentinel client asks the sentinels for the master at each connection,
 * subscribes to their `+switch-master` (`failoverDetector`) to move at once after a failover,
 * and connects only to a server that says it is the master. An `error` listener is always
 * attached (an ioredis client without one prints every reconnection failure to stderr).
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const { url, addr, sentinels, sentinelName = "mymaster", password, maxReconnectDelayMs = 1000 } = options;
  const redisOptions = serverOptions(options);
  const given = [url, addr, sentinels].filter((v) => v !== undefined).length;
  if (given !== 1) throw new TypeError("give exactly one of url, addr or sentinels");

  let client: Redis;
  if (url !== undefined) {
    const parsed = URL.parse(url);
    if (parsed === null || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")) {
      throw new TypeError("expected a redis:// or rediss:// URL");
    }
    const urlHasPassword = parsed.password !== "" || parsed.searchParams.has("password");
    client = new Redis(url, { ...redisOptions, ...(password !== undefined && !urlHasPassword ? { password } : {}) });
  } else if (addr !== undefined) {
    const { host, port } = parseRedisAddr(addr);
    client = new Redis({ ...redisOptions, host, port, ...(password !== undefined ? { password } : {}) });
  } else {
    if (sentinels === undefined || sentinels.length === 0) throw new TypeError("sentinels must list at least one host:port");
    client = new Redis({
      ...redisOptions,
      sentinels: sentinels.map(({ host, port }) => ({ host, port })),
      name: sentinelName,
      role: "master",
      failoverDetector: true,
      // After every sentinel failed once, wait this long before asking them all again.
      sentinelRetryStrategy: reconnectDelay(maxReconnectDelayMs),
      ...(password !== undefined ? { password } : {}),
    });
  }
  reportStateChanges(client, options);
  return client;
}

export interface RedisClusterClientOptions extends ClientTuning {
  /** REDIS_CLUSTER_NODES: some of the cluster's nodes; the client learns the others from them. */
  nodes: readonly RedisNode[];
}

/**
 * Builds an ioredis `Cluster` client with no offline queue of its own (a command while the cluster
 * is not ready fails at once), the command and connect timeouts of `serverOptions` on every node
 * connection (ioredis keeps its own lazy connect, offline queue and reconnection for those), reads
 * and writes on masters only. It follows
 * `MOVED`/`ASK` and refreshes its slot map after a failover. Its own retries (after a node's
 * connection closed, `CLUSTERDOWN`, `TRYAGAIN`) can outlast one command's timeout: give
 * `RedisCache` a `callBudgetMs` to keep each call within the budget.
 */
export function createRedisClusterClient(options: RedisClusterClientOptions): Cluster {
  const { nodes, password, maxReconnectDelayMs = 1000 } = options;
  if (nodes.length === 0) throw new TypeError("nodes must list at least one host:port");
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: false,
    // The ready check's CLUSTER INFO goes to a random node; one still connecting refuses it (no
    // offline queue) and the client reconnects, for seconds at a time. Ready once the slots are known.
    enableReadyCheck: false,
    scaleReads: "master",
    clusterRetryStrategy: reconnectDelay(maxReconnectDelayMs),
    // A call is abandoned at its budget anyway: a few redirections are plenty, and waiting to try
    // again after a node's connection closed or CLUSTERDOWN (100 ms each by default) only spends
    // the budget while a failover takes seconds: such a call fails at once, the cache misses.
    maxRedirections: 6,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    slotsRefreshTimeout: 1000,
    redisOptions: { ...serverOptions(options), ...(password !== undefined ? { password } : {}) },
  };
  const client = new Cluster(nodes.map(({ host, port }) => ({ host, port })), clusterOptions);
  reportStateChanges(client, options);
  // A node's own errors come as `node error`; without a listener they are lost, with one they
  // count as the outage's first error like the cluster's.
  client.on("node error", (err: Error) => client.emit("error", err));
  // ioredis connects to a node at its first command, and without an offline queue refuses the
  // commands sent while that connection is being made: a new replica's first burst of reads
  // missed. Each node is connected as soon as the client learns of it.
  client.on("+node", (node: Redis) => {
    if (node.status === "wait") node.connect().catch(() => {}); // a failure is the node's `error`, reported above
  });
  return client;
}

/** Reports only state changes: the first error of an outage, then the recovery. */
function reportStateChanges(client: Redis | Cluster, { onError, onReady }: ClientTuning): void {
  let failing = false;
  client.on("error", (err: Error) => {
    if (failing) return;
    failing = true;
    onError(err);
  });
  client.on("ready", () => {
    if (!failing) return;
    failing = false;
    onReady?.();
  });
}

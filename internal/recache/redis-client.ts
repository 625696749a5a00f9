import { Redis, type RedisOptions } from "ioredis";
import { CACHE_BUDGET_MS } from "./cache.ts";

export interface RedisClientOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (REDIS_URL). Give this or `addr`. */
  url?: string;
  /** `host:port` (REDIS_ADDR, the article's form); `[::1]:6379` for IPv6. Give this or `url`. */
  addr?: string;
  /** Upper bound on one command, connected or not. Default `CACHE_BUDGET_MS` (the contract's 250 ms). */
  commandTimeoutMs?: number;
  /** Limit on establishing one TCP connection. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Cap on the delay between reconnection attempts. Default 1000 ms. */
  maxReconnectDelayMs?: number;
  /**
   * Called with the first connection error of each outage (at start-up, or
   * after the client was ready), not with every failed reconnection attempt,
   * so a long outage logs one line instead of a flood.
   */
  onError: (err: Error) => void;
  /** Called when the connection becomes ready again after `onError` was reported. */
  onReady?: () => void;
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
 * Builds an ioredis client configured for a cache that must never slow the
 * request path down:
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
 *   connecting on that command but cannot send it yet).
 * - an `error` listener is always attached (an ioredis client without one
 *   prints every reconnection failure to stderr).
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const {
    url,
    addr,
    commandTimeoutMs = CACHE_BUDGET_MS,
    connectTimeoutMs = 1000,
    maxReconnectDelayMs = 1000,
    onError,
    onReady,
  } = options;

  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxReconnectDelayMs),
  };

  let client: Redis;
  if (url !== undefined && addr === undefined) {
    const parsed = URL.parse(url);
    if (parsed === null || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")) {
      throw new TypeError("expected a redis:// or rediss:// URL");
    }
    client = new Redis(url, redisOptions);
  } else if (addr !== undefined && url === undefined) {
    const { host, port } = parseRedisAddr(addr);
    client = new Redis({ ...redisOptions, host, port });
  } else {
    throw new TypeError("give exactly one of url or addr");
  }

  // Report only state changes: the first error of an outage, then the recovery.
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
  return client;
}

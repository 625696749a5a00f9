import { redactUrl } from "../../internal/logging/redact.ts";
import { type FaultProxy, startFaultProxy } from "../faultproxy/index.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../kit/redis-server.ts";

/** The Redis the booksvc replicas share, and a way to take it down and bring it back. */
export interface DrillRedis {
  /** What booksvc connects to. */
  readonly url: string;
  /** For humans: where it is (credentials masked). */
  readonly display: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `REDIS_URL` (or `REDIS_ADDR`) given: that Redis behind a fault proxy, so "down" never stops a
 * server someone else may use. Otherwise a `redis-server` of the drill's own on a free port,
 * killed for "down" and started again (empty) for "up".
 */
export async function startDrillRedis(env: Record<string, string | undefined>): Promise<DrillRedis> {
  const given = env.REDIS_URL ?? (env.REDIS_ADDR ? `redis://${env.REDIS_ADDR}` : undefined);
  if (given === undefined) {
    const redis: ThrowawayRedis = await startThrowawayRedis();
    return {
      url: redis.url,
      display: `redis-server of the drill's own (${redis.addr})`,
      down: () => redis.kill(),
      up: () => redis.restart(),
      close: () => redis.close(),
    };
  }
  const target = new URL(given);
  const proxy: FaultProxy = await startFaultProxy({
    target: { host: target.hostname || "127.0.0.1", port: Number(target.port || 6379) },
  });
  const proxied = new URL(given);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  return {
    url: proxied.toString(),
    display: `${redactUrl(given)} through a fault proxy`,
    down: () => proxy.cut(),
    up: () => proxy.pass(),
    close: () => proxy.close(),
  };
}

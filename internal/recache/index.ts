export { CACHE_BUDGET_MS, type Cache, type CacheEntry, type KeyGroup } from "./cache.ts";
export { CacheError, type CacheOperation } from "./cache-error.ts";
export {
  DEFAULT_MAX_VALUE_BYTES,
  decodeEntry,
  EARLIEST_STORED_AT,
  ENVELOPE_MAX_BYTES,
  encodeEntry,
  type EntryProblem,
  type IgnoredEntry,
  isPossibleTime,
  MAX_CLOCK_AHEAD_MS,
} from "./entry.ts";
export { MemoryCache, type MemoryCacheOptions } from "./memory-cache.ts";
export { RedisCache, type RedisCacheOptions } from "./redis-cache.ts";
export {
  createRedisClient,
  parseRedisAddr,
  type RedisClientOptions,
} from "./redis-client.ts";
export { SingleFlight } from "./single-flight.ts";

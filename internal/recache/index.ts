export { CACHE_BUDGET_MS, type Cache, type CacheEntry, type KeyGroup } from "./cache.ts";
export { CacheError, type CacheOperation } from "./cache-error.ts";
export { decodeEntry, ENVELOPE_MAX_BYTES, encodeEntry } from "./entry.ts";
export {
  DEFAULT_MAX_VALUE_BYTES,
  EARLIEST_STORED_AT,
  type EntryProblem,
  type IgnoredEntry,
  isPossibleTime,
  MAX_CLOCK_AHEAD_MS,
} from "./entry-rules.ts";
export { MemoryCache, type MemoryCacheOptions } from "./memory-cache.ts";
export { RedisCache, type RedisCacheOptions } from "./redis-cache.ts";
export {
  createRedisClient,
  parseRedisAddr,
  type RedisClientOptions,
} from "./redis-client.ts";

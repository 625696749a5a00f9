export { CACHE_BUDGET_MS, type Cache, type CacheEntry, type GetOptions, type KeyGroup, type PutOptions } from "./cache.ts";
export { CacheError, type CacheOperation } from "./cache-error.ts";
export { decodeEntry, ENVELOPE_MAX_BYTES, encodeEntry, isEntryName, MAX_NAME_BYTES } from "./entry.ts";
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
export { HASH_SLOTS, hashedPart, keySlot, sameSlotPrefix } from "./hash-slot.ts";
export {
  createRedisClient,
  createRedisClusterClient,
  parseRedisAddr,
  type RedisClientOptions,
  type RedisClusterClientOptions,
  type RedisNode,
} from "./redis-client.ts";

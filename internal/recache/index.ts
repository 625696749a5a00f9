export { CACHE_BUDGET_MS, type Cache, type CacheEntry } from "./cache.ts";
export { CacheError, type CacheOperation } from "./cache-error.ts";
export { encodeEntry, decodeEntry } from "./entry.ts";
export { MemoryCache, type MemoryCacheOptions } from "./memory-cache.ts";
export { RedisCache, type RedisCacheOptions } from "./redis-cache.ts";
export {
  createRedisClient,
  parseRedisAddr,
  type RedisClientOptions,
} from "./redis-client.ts";

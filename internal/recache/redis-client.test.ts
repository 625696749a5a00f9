import { describe, expect, test } from "bun:test";
import { createRedisClient, createRedisClusterClient, parseRedisAddr } from "./redis-client.ts";

describe("parseRedisAddr", () => {
  test.each([
    ["localhost:6379", { host: "localhost", port: 6379 }],
    ["127.0.0.1:6380", { host: "127.0.0.1", port: 6380 }],
    ["redis.internal:1", { host: "redis.internal", port: 1 }],
    ["[::1]:6379", { host: "::1", port: 6379 }],
  ])("parses %p", (addr, expected) => {
    expect(parseRedisAddr(addr)).toEqual(expected);
  });

  test.each(["", "localhost", ":6379", "localhost:", "localhost:0", "localhost:65536", "localhost:abc", "redis://localhost:6379", "::1:6379"])(
    "rejects %p with a message saying what is accepted",
    (addr) => {
      expect(() => parseRedisAddr(addr)).toThrow(/host:port/);
    },
  );
});

describe("createRedisClient", () => {
  const onError = () => {};

  test("needs exactly one of url, addr and sentinels", () => {
    expect(() => createRedisClient({ onError })).toThrow(TypeError);
    expect(() => createRedisClient({ url: "redis://127.0.0.1:1", addr: "127.0.0.1:1", onError })).toThrow(TypeError);
    expect(() => createRedisClient({ addr: "127.0.0.1:1", sentinels: [{ host: "127.0.0.1", port: 1 }], onError })).toThrow(TypeError);
    expect(() => createRedisClient({ sentinels: [], onError })).toThrow(TypeError);
  });

  test("a Sentinel client asks for the master by name, follows +switch-master, and drops a connection answered READONLY", () => {
    const client = createRedisClient({ sentinels: [{ host: "127.0.0.1", port: 1 }], sentinelName: "books", password: "pw", onError });
    try {
      expect(client.options.sentinels).toEqual([{ host: "127.0.0.1", port: 1 }]);
      expect(client.options.name).toBe("books");
      expect(client.options.role).toBe("master");
      expect(client.options.failoverDetector).toBe(true);
      expect(client.options.password).toBe("pw");
      expect(client.options.enableOfflineQueue).toBe(false);
      expect(client.options.commandTimeout).toBe(250);
      const reconnect = client.options.reconnectOnError!;
      expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(true);
      expect(reconnect(new Error("WRONGTYPE Operation against a key holding the wrong kind of value"))).toBe(false);
    } finally {
      client.disconnect();
    }
  });

  test("REDIS_PASSWORD applies to a URL without a password, never over the URL's own", () => {
    const without = createRedisClient({ url: "redis://127.0.0.1:1", password: "pw", onError });
    const withOwn = createRedisClient({ url: "redis://:own@127.0.0.1:1", password: "pw", onError });
    try {
      expect(without.options.password).toBe("pw");
      expect(withOwn.options.password).toBe("own");
    } finally {
      without.disconnect();
      withOwn.disconnect();
    }
  });

  test("a Cluster client has no offline queue, masters only, and the fail-fast options on every node", () => {
    const client = createRedisClusterClient({ nodes: [{ host: "127.0.0.1", port: 1 }], password: "pw", onError });
    try {
      expect(client.options.enableOfflineQueue).toBe(false);
      expect(client.options.scaleReads).toBe("master");
      expect(client.options.redisOptions).toMatchObject({ commandTimeout: 250, maxRetriesPerRequest: 0, password: "pw" });
      expect(client.listenerCount("error")).toBeGreaterThan(0);
      expect(client.listenerCount("node error")).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
    expect(() => createRedisClusterClient({ nodes: [], onError })).toThrow(TypeError);
  });

  test("rejects a URL that is not redis:// or rediss://", () => {
    expect(() => createRedisClient({ url: "http://127.0.0.1:6379", onError })).toThrow(TypeError);
    expect(() => createRedisClient({ url: "not a url", onError })).toThrow(TypeError);
  });

  test("configures fail-fast options: no offline queue, no per-request retries, a 250 ms command timeout", () => {
    const client = createRedisClient({ addr: "127.0.0.1:1", onError });
    try {
      expect(client.options.enableOfflineQueue).toBe(false);
      expect(client.options.maxRetriesPerRequest).toBe(0);
      expect(client.options.autoResendUnfulfilledCommands).toBe(false);
      expect(client.options.commandTimeout).toBe(250);
      expect(client.listenerCount("error")).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  test("caps the reconnection delay", () => {
    const client = createRedisClient({ url: "redis://127.0.0.1:1", maxReconnectDelayMs: 800, onError });
    try {
      const strategy = client.options.retryStrategy!;
      expect(strategy(1)).toBeGreaterThan(0);
      expect(strategy(1000)).toBe(800);
    } finally {
      client.disconnect();
    }
  });
});

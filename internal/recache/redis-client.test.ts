import { describe, expect, test } from "bun:test";
import { createRedisClient, parseRedisAddr } from "./redis-client.ts";

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

  test("needs exactly one of url and addr", () => {
    expect(() => createRedisClient({ onError })).toThrow(TypeError);
    expect(() => createRedisClient({ url: "redis://127.0.0.1:1", addr: "127.0.0.1:1", onError })).toThrow(TypeError);
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

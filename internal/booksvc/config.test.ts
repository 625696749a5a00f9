import { describe, expect, test } from "bun:test";
import { DEFAULT_STORAGESVC_URL, readBooksvcConfig } from "./config.ts";
import { configProblems } from "../../tools/kit/config-problems.ts";

const problemsOf = (env: Record<string, string>) => configProblems(() => readBooksvcConfig(env));

describe("readBooksvcConfig", () => {
  test("uses the contract's defaults when nothing is set", () => {
    expect(readBooksvcConfig({})).toEqual({
      HTTP_PORT: { hostname: undefined, port: 8081 },
      STORAGESVC_URL: DEFAULT_STORAGESVC_URL,
      REDIS_ADDR: undefined,
      REDIS_URL: undefined,
      REDIS_SENTINELS: undefined,
      REDIS_SENTINEL_NAME: "mymaster",
      REDIS_CLUSTER_NODES: undefined,
      REDIS_PASSWORD: undefined,
      RESILIENCE_STRATEGY: "combined",
      UPSTREAM_TIMEOUT_MS: 2000,
      REQUEST_TIMEOUT_MS: 10_000,
      RETRY_INITIAL_INTERVAL_MS: 500,
      RETRY_MULTIPLIER: 1.5,
      RETRY_RANDOMIZATION_FACTOR: 0.5,
      RETRY_MAX_INTERVAL_MS: 60_000,
      RETRY_MAX_RETRIES: 7,
      RETRY_BUDGET_PERCENT: 20,
      RETRY_BUDGET_MIN_PER_S: 10,
      BREAKER_FAILURE_THRESHOLD: 1,
      BREAKER_OPEN_MS: 5000,
      BREAKER_INTERVAL_MS: 10_000,
      STALE_AFTER_MS: 100,
      CACHE_TTL_S: 600,
      CACHE_KEY: "booksvc:books",
      UPSTREAM_MAX_BODY_BYTES: 1_048_576,
      CACHE_MAX_PAGES: 100,
      CACHE_MAX_AGE_S: 0,
      COLLAPSE_REQUESTS: true,
      MAX_IN_FLIGHT: 256,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      SHUTDOWN_DELAY_MS: 0,
      LOG_LEVEL: "info",
    });
    expect(DEFAULT_STORAGESVC_URL).toBe("http://localhost:8082/books");
  });

  test("reads every variable when set", () => {
    const config = readBooksvcConfig({
      HTTP_PORT: ":9001",
      STORAGESVC_URL: "https://storage.internal/books",
      REDIS_ADDR: "cache:6380",
      RESILIENCE_STRATEGY: "breaker",
      UPSTREAM_TIMEOUT_MS: "150",
      REQUEST_TIMEOUT_MS: "900",
      RETRY_INITIAL_INTERVAL_MS: "10",
      RETRY_MULTIPLIER: "2",
      RETRY_RANDOMIZATION_FACTOR: "0",
      RETRY_MAX_INTERVAL_MS: "100",
      RETRY_MAX_RETRIES: "0",
      BREAKER_FAILURE_THRESHOLD: "3",
      BREAKER_OPEN_MS: "250",
      BREAKER_INTERVAL_MS: "1000",
      CACHE_TTL_S: "5",
      CACHE_KEY: "test:books",
      UPSTREAM_MAX_BODY_BYTES: "4096",
      CACHE_MAX_PAGES: "7",
      COLLAPSE_REQUESTS: "false",
      SHUTDOWN_DELAY_MS: "3000",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      HTTP_PORT: { hostname: undefined, port: 9001 },
      STORAGESVC_URL: "https://storage.internal/books",
      REDIS_ADDR: "cache:6380",
      RESILIENCE_STRATEGY: "breaker",
      UPSTREAM_TIMEOUT_MS: 150,
      REQUEST_TIMEOUT_MS: 900,
      RETRY_MULTIPLIER: 2,
      RETRY_RANDOMIZATION_FACTOR: 0,
      RETRY_MAX_RETRIES: 0,
      BREAKER_FAILURE_THRESHOLD: 3,
      CACHE_TTL_S: 5,
      CACHE_KEY: "test:books",
      UPSTREAM_MAX_BODY_BYTES: 4096,
      CACHE_MAX_PAGES: 7,
      COLLAPSE_REQUESTS: false,
      SHUTDOWN_DELAY_MS: 3000,
      LOG_LEVEL: "debug",
    });
  });

  test("accepts REDIS_URL instead of REDIS_ADDR", () => {
    expect(readBooksvcConfig({ REDIS_URL: "redis://:pw@localhost:6379/2" }).REDIS_URL).toBe("redis://:pw@localhost:6379/2");
  });

  test.each([
    ["RESILIENCE_STRATEGY", "retries", "one of none, retry, breaker, combined"],
    ["HTTP_PORT", "80a", "a port 1-65535"],
    ["STORAGESVC_URL", "localhost:8082/books", "http://"],
    ["STORAGESVC_URL", "ftp://host/books", "http://"],
    ["REDIS_ADDR", "localhost", "host:port"],
    ["REDIS_ADDR", "redis://localhost:6379", "host:port"],
    ["REDIS_URL", "localhost:6379", "redis://"],
    ["UPSTREAM_TIMEOUT_MS", "2s", "an integer"],
    ["REQUEST_TIMEOUT_MS", "0", "an integer from 1"],
    ["RETRY_INITIAL_INTERVAL_MS", "-5", "an integer from 1"],
    ["RETRY_MULTIPLIER", "0.5", "a number from 1"],
    ["RETRY_RANDOMIZATION_FACTOR", "1.5", "a number from 0 to 1"],
    ["RETRY_MAX_INTERVAL_MS", "x", "an integer"],
    ["RETRY_MAX_RETRIES", "-1", "an integer from 0"],
    ["BREAKER_FAILURE_THRESHOLD", "0", "an integer from 1"],
    ["BREAKER_OPEN_MS", "1.5", "an integer"],
    ["BREAKER_INTERVAL_MS", "soon", "an integer"],
    ["CACHE_TTL_S", "0", "an integer from 1"],
    ["CACHE_KEY", "two words", "a non-empty key"],
    ["UPSTREAM_MAX_BODY_BYTES", "1MB", "an integer from 2 to 67108864"],
    ["UPSTREAM_MAX_BODY_BYTES", "1", "an integer from 2 to 67108864"],
    ["UPSTREAM_MAX_BODY_BYTES", "67108865", "an integer from 2 to 67108864"],
    ["SHUTDOWN_DELAY_MS", "-1", "an integer from 0 to 600000"],
    ["CACHE_MAX_PAGES", "0", "an integer from 1 to 100000"],
    ["COLLAPSE_REQUESTS", "yes", "true or false"],
    ["REDIS_SENTINELS", "127.0.0.1", "host:port"],
    ["REDIS_CLUSTER_NODES", "a:1,,b:2", "host:port"],
    ["STALE_AFTER_MS", "-1", "an integer from 0"],
    ["RETRY_BUDGET_PERCENT", "ten", "an integer from 0"],
    ["RETRY_BUDGET_MIN_PER_S", "-1", "an integer from 0"],
    ["MAX_IN_FLIGHT", "lots", "an integer from 0"],
    ["CACHE_MAX_AGE_S", "-5", "an integer from 0"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "http://"],
    ["LOG_LEVEL", "verbose", "debug, info, warn, error"],
  ])("rejects %s=%p, naming it and what is accepted", (name, raw, accepted) => {
    const problems = problemsOf({ [name]: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith(`${name}: `);
    expect(problems[0]).toContain(accepted);
  });

  test("reports every bad variable at once, one line each", () => {
    const problems = problemsOf({ RESILIENCE_STRATEGY: "x", HTTP_PORT: "x", CACHE_TTL_S: "x" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["CACHE_TTL_S", "HTTP_PORT", "RESILIENCE_STRATEGY"]);
  });

  test("refuses REDIS_ADDR and REDIS_URL together", () => {
    const problems = problemsOf({ REDIS_ADDR: "localhost:6379", REDIS_URL: "redis://localhost:6379" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("REDIS_URL: ");
  });

  test("refuses two ways to Redis at once, naming the four", () => {
    const problems = problemsOf({ REDIS_SENTINELS: "127.0.0.1:26379", REDIS_CLUSTER_NODES: "127.0.0.1:7000" });
    expect(problems).toEqual([
      "REDIS_CLUSTER_NODES: set together with REDIS_SENTINELS, expected at most one of REDIS_ADDR, REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES (or none for the in-memory cache)",
    ]);
  });

  test("reads the sentinels and cluster nodes as host:port lists", () => {
    expect(readBooksvcConfig({ REDIS_SENTINELS: "127.0.0.1:26379, [::1]:26380", REDIS_SENTINEL_NAME: "books" })).toMatchObject({
      REDIS_SENTINELS: [
        { host: "127.0.0.1", port: 26379 },
        { host: "::1", port: 26380 },
      ],
      REDIS_SENTINEL_NAME: "books",
    });
    expect(readBooksvcConfig({ REDIS_CLUSTER_NODES: "redis-0:7000" }).REDIS_CLUSTER_NODES).toEqual([{ host: "redis-0", port: 7000 }]);
  });

  test("listens on one address when HTTP_PORT names it", () => {
    expect(readBooksvcConfig({ HTTP_PORT: "127.0.0.1:9001" }).HTTP_PORT).toEqual({ hostname: "127.0.0.1", port: 9001 });
    expect(readBooksvcConfig({ HTTP_PORT: "[::1]:9001" }).HTTP_PORT).toEqual({ hostname: "::1", port: 9001 });
  });

  test("never echoes a Redis password in a problem line", () => {
    const problems = problemsOf({ REDIS_URL: "http://user:hunter2@localhost:6379" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain("hunter2");
  });

  test.each([
    ["REDIS_URL", "http://localhost:6379/?password=hunter2"],
    ["REDIS_ADDR", "redis://:hunter2@localhost:6379"],
    ["STORAGESVC_URL", "ftp://user:hunter2@localhost/books?token=hunter2"],
  ])("never echoes a credential of a rejected %s", (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith(`${name}: got`);
    expect(problems[0]).not.toContain("hunter2");
  });
});

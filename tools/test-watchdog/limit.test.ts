import { describe, expect, test } from "bun:test";
import { BUN_DEFAULT_TIMEOUT_MS, UNKNOWN_TIMEOUT_LIMIT_MS, longestTimeoutMs, watchdogLimitMs } from "./limit.ts";

describe("longestTimeoutMs", () => {
  test("a file that sets no timeout has Bun's default", () => {
    expect(longestTimeoutMs(`test("x", () => {});`)).toBe(BUN_DEFAULT_TIMEOUT_MS);
  });

  test("reads setDefaultTimeout, a test's own timeout and a timeout option, whichever is longest", () => {
    expect(longestTimeoutMs(`setDefaultTimeout(30_000);`)).toBe(30_000);
    expect(longestTimeoutMs(`setDefaultTimeout(30_000);\ntest("slow", async () => {\n}, 300_000);`)).toBe(300_000);
    expect(longestTimeoutMs(`test("x", async () => {}, { timeout: 90000 });`)).toBe(90_000);
  });

  test("a timeout given by a name cannot be read: undefined", () => {
    expect(longestTimeoutMs(`setDefaultTimeout(TIMEOUT_MS);`)).toBeUndefined();
    expect(longestTimeoutMs(`beforeAll(async () => {\n}, INITDB_MS);`)).toBeUndefined();
  });
});

describe("watchdogLimitMs", () => {
  test("twice the longest timeout and 10 s more; the long limit when it cannot be read", () => {
    expect(watchdogLimitMs(`test("x", () => {});`)).toBe(20_000);
    expect(watchdogLimitMs(`setDefaultTimeout(60_000);`)).toBe(130_000);
    expect(watchdogLimitMs(`setDefaultTimeout(LONG);`)).toBe(UNKNOWN_TIMEOUT_LIMIT_MS);
  });
});

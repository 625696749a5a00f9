import { describe, expect, test } from "bun:test";
import { missingPrerequisites } from "./prerequisites.ts";

describe("missingPrerequisites", () => {
  test("nothing missing with haproxy 2.6 and redis-server", () => {
    expect(missingPrerequisites({ haproxy: { version: "2.6.12" }, redisServer: true }, {})).toEqual([]);
  });

  test("a missing haproxy says how to install it", () => {
    const [problem] = missingPrerequisites({ haproxy: undefined, redisServer: true }, {});
    expect(problem).toStartWith("haproxy is not on PATH");
    expect(problem).toContain("apt-get install haproxy");
  });

  test("an haproxy older than 2.2 is named with its version", () => {
    expect(missingPrerequisites({ haproxy: { version: "2.1.12" }, redisServer: true }, {})).toEqual([
      "haproxy 2.1.12 is too old: the drill's health checks (http-check send) need HAProxy 2.2 or newer.",
    ]);
    expect(missingPrerequisites({ haproxy: { version: "2.2.0" }, redisServer: true }, {})).toEqual([]);
  });

  test("redis-server is needed only when no Redis is given", () => {
    const [problem] = missingPrerequisites({ haproxy: { version: "2.6.12" }, redisServer: false }, {});
    expect(problem).toContain("apt-get install redis-server");
    expect(problem).toContain("REDIS_URL");
    expect(missingPrerequisites({ haproxy: { version: "2.6.12" }, redisServer: false }, { REDIS_URL: "redis://127.0.0.1:6379" })).toEqual([]);
  });

  test("both missing: two problems", () => {
    expect(missingPrerequisites({ haproxy: undefined, redisServer: false }, {})).toHaveLength(2);
  });
});

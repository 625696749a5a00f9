import { describe, expect, test } from "bun:test";
import { DEFAULT_DATABASE_URL, readStoragesvcConfig } from "./config.ts";
import { configProblems } from "../../tools/kit/config-problems.ts";

const problemsOf = (env: Record<string, string>) => configProblems(() => readStoragesvcConfig(env));

describe("readStoragesvcConfig", () => {
  test("uses the contract's defaults when nothing is set", () => {
    expect(readStoragesvcConfig({})).toEqual({
      HTTP_PORT: { hostname: undefined, port: 8082 },
      DATABASE_URL: DEFAULT_DATABASE_URL,
      DB_POOL_MAX: 10,
      DB_MIGRATE: "auto",
      PAGE_MAX_BYTES: 524_288,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      SHUTDOWN_DELAY_MS: 0,
      LOG_LEVEL: "info",
    });
    expect(DEFAULT_DATABASE_URL).toBe("postgres://pg:pass@localhost:5432/crud");
  });

  test("reads every variable when set", () => {
    expect(
      readStoragesvcConfig({
        HTTP_PORT: ":9000",
        DATABASE_URL: "postgresql://u@db.internal:6543/books",
        DB_POOL_MAX: "25",
        DB_MIGRATE: "off",
        PAGE_MAX_BYTES: "65536",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
        SHUTDOWN_DELAY_MS: "5000",
        LOG_LEVEL: "debug",
      }),
    ).toEqual({
      HTTP_PORT: { hostname: undefined, port: 9000 },
      DATABASE_URL: "postgresql://u@db.internal:6543/books",
      DB_POOL_MAX: 25,
      DB_MIGRATE: "off",
      PAGE_MAX_BYTES: 65_536,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      SHUTDOWN_DELAY_MS: 5000,
      LOG_LEVEL: "debug",
    });
  });

  test("ignores variables it does not know", () => {
    expect(readStoragesvcConfig({ REDIS_ADDR: "nonsense", HTTP_PORT: "8082" }).HTTP_PORT.port).toBe(8082);
  });

  test("accepts a multi-host DATABASE_URL, as postgres.js does", () => {
    const url = "postgres://app@db-0:5432,db-1:5433/books?target_session_attrs=primary";
    expect(readStoragesvcConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  test("binds one address when HTTP_PORT names it", () => {
    expect(readStoragesvcConfig({ HTTP_PORT: "127.0.0.1:9000" }).HTTP_PORT).toEqual({ hostname: "127.0.0.1", port: 9000 });
  });

  test.each(["abc", "0", "65536", ":", "-1", "80 82", "8082.0", "127.0.0.1:", "a b:80"])("rejects HTTP_PORT %p", (raw) => {
    const problems = problemsOf({ HTTP_PORT: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("HTTP_PORT: ");
    expect(problems[0]).toContain("a port 1-65535");
  });

  test.each([
    "not a url",
    "mysql://u@localhost/crud",
    "http://localhost:5432/crud",
    "postgres://",
    "localhost:5432/crud",
    "postgres://u@h1:5432,,h2/db",
    "postgres://u@h1:5432,h2:x/db",
  ])("rejects DATABASE_URL %p", (raw) => {
    const problems = problemsOf({ DATABASE_URL: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("DATABASE_URL: ");
    expect(problems[0]).toContain("postgres://");
  });

  test.each(["0", "-3", "1001", "ten", "2.5"])("rejects DB_POOL_MAX %p", (raw) => {
    const problems = problemsOf({ DB_POOL_MAX: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("DB_POOL_MAX: ");
    expect(problems[0]).toContain("an integer from 1 to 1000");
  });

  test.each(["-1", "600001", "5s", "0.5"])("rejects SHUTDOWN_DELAY_MS %p", (raw) => {
    const problems = problemsOf({ SHUTDOWN_DELAY_MS: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("SHUTDOWN_DELAY_MS: ");
    expect(problems[0]).toContain("an integer from 0 to 600000");
  });

  test.each([
    ["DB_MIGRATE", "on", "one of auto, off"],
    ["PAGE_MAX_BYTES", "100", "an integer from 1024"],
  ])("rejects %s=%p, naming what is accepted", (name, raw, accepted) => {
    const problems = problemsOf({ [name]: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith(`${name}: `);
    expect(problems[0]).toContain(accepted);
  });

  test.each(["verbose", "INFO", "trace", "fatal"])("rejects LOG_LEVEL %p", (raw) => {
    const problems = problemsOf({ LOG_LEVEL: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith("LOG_LEVEL: ");
    expect(problems[0]).toContain("debug, info, warn, error");
  });

  test("reports every bad variable at once, one line each", () => {
    const problems = problemsOf({ HTTP_PORT: "x", DATABASE_URL: "mysql://h/db", DB_POOL_MAX: "0", LOG_LEVEL: "loud" });
    expect(problems.map((problem) => problem.split(":")[0])).toEqual(["HTTP_PORT", "DATABASE_URL", "DB_POOL_MAX", "LOG_LEVEL"]);
  });
});

import { describe, expect, test } from "bun:test";
import { intVar, portVar } from "../../../internal/config/env.ts";
import { type EnvVarSource, type ResolvedEnv, readVariable } from "./env.ts";

const envOf = (vars: Record<string, EnvVarSource>): ResolvedEnv => ({ vars: new Map(Object.entries(vars)), problems: [] });
const literal = (value: string): EnvVarSource => ({ value, from: "literal" });

describe("readVariable: a manifest's value as the service's own reader reads it", () => {
  test.each([
    ["8081", 8081],
    [":9090", 9090],
    [" 9090 ", 9090],
  ])("HTTP_PORT %p is port %p", (raw, port) => {
    expect(readVariable(envOf({ HTTP_PORT: literal(raw) }), "HTTP_PORT", portVar(8081))).toBe(port);
  });

  test.each(["0", "70000", "http", "80.5"])("HTTP_PORT %p is refused, as the service refuses it", (raw) => {
    expect(readVariable(envOf({ HTTP_PORT: literal(raw) }), "HTTP_PORT", portVar(8081))).toBeUndefined();
  });

  test("unset, empty, or set from a Secret outside the build: the service's default", () => {
    const reader = intVar(10_000, 1, 240_000);
    expect(readVariable(envOf({}), "REQUEST_TIMEOUT_MS", reader)).toBe(10_000);
    expect(readVariable(envOf({ REQUEST_TIMEOUT_MS: literal("") }), "REQUEST_TIMEOUT_MS", reader)).toBe(10_000);
    const outside = { REQUEST_TIMEOUT_MS: { value: undefined, from: "Secret bookstore-secrets" } };
    expect(readVariable(envOf(outside), "REQUEST_TIMEOUT_MS", reader)).toBe(10_000);
  });

  test("an integer out of the service's range is refused, not taken as a number", () => {
    expect(readVariable(envOf({ REQUEST_TIMEOUT_MS: literal("300000") }), "REQUEST_TIMEOUT_MS", intVar(10_000, 1, 240_000))).toBeUndefined();
  });
});

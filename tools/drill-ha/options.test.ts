import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { parseHaDrillOptions, usage } from "./options.ts";

const names = ["pg-failover", "pgbouncer", "redis-sentinel"];

describe("parseHaDrillOptions", () => {
  test("defaults: every scenario, full length, tables", () => {
    expect(parseHaDrillOptions([], names)).toEqual({ quick: false, only: names, json: false, help: false });
  });
  test("--only keeps the runner's order whatever the order given", () => {
    expect(parseHaDrillOptions(["--only", "pgbouncer,pg-failover", "--quick", "--json"], names)).toEqual({
      quick: true,
      only: ["pg-failover", "pgbouncer"],
      json: true,
      help: false,
    });
  });
  test("an unknown scenario or flag is a usage error naming it", () => {
    expect(() => parseHaDrillOptions(["--only", "pg-nope"], names)).toThrow(UsageError);
    expect(() => parseHaDrillOptions(["--only", "pg-nope"], names)).toThrow(/"pg-nope"/);
    expect(() => parseHaDrillOptions(["--fast"], names)).toThrow(UsageError);
  });
  test("the usage names every scenario", () => {
    for (const name of names) expect(usage(names)).toContain(name);
  });
});

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { UsageError } from "../kit/args.ts";
import { DEFAULT_AB_OPTIONS, parseAbOptions } from "./ab-options.ts";
import { REPO_ROOT } from "./processes.ts";

describe("bench:ab options", () => {
  test("variants by name, each with its own variables; defaults for the rest", () => {
    const o = parseAbOptions(["--variant", "main=dist/booksvc", "--variant", "mine=/tmp/booksvc", "--env", "mine:LOG_LEVEL=warn", "--env", "mine:STORAGESVC_URL=http://127.0.0.1:1/a=b"]);
    expect(o.variants).toEqual([
      { name: "main", command: [join(REPO_ROOT, "dist/booksvc")], env: {} },
      { name: "mine", command: ["/tmp/booksvc"], env: { LOG_LEVEL: "warn", STORAGESVC_URL: "http://127.0.0.1:1/a=b" } },
    ]);
    expect(o).toMatchObject({ ...DEFAULT_AB_OPTIONS, help: false });
  });

  test("a .ts entry runs with this Bun", () => {
    expect(parseAbOptions(["--variant", "src=cmd/booksvc/main.ts"]).variants[0]!.command).toEqual([process.execPath, join(REPO_ROOT, "cmd/booksvc/main.ts")]);
  });

  test("the load options", () => {
    const o = parseAbOptions(["--variant", "a=x", "--clients", "16", "--rounds", "3", "--duration", "1.5", "--warmup", "0", "--log-level", "warn"]);
    expect(o).toMatchObject({ clients: 16, rounds: 3, durationMs: 1500, warmupMs: 0, logLevel: "warn" });
  });

  test.each([
    [[], "give at least one booksvc"],
    [["--variant", "dist/booksvc"], "expected <name>=<path>"],
    [["--variant", "a b=x"], "expected <name>=<path>"],
    [["--variant", "a="], "expected <name>=<path>"],
    [["--variant", "a=x", "--variant", "a=y"], 'the name "a" is given twice'],
    [["--variant", "a=x", "--env", "b:LOG_LEVEL=warn"], "for one of a"],
    [["--variant", "a=x", "--env", "a:log level=warn"], "for one of a"],
    [["--variant", "a=x", "--env", "a=LOG_LEVEL"], "for one of a"],
    [["--variant", "a=x", "--rounds", "0"], "--rounds"],
    [["--variant", "a=x", "--fast"], "--fast"],
  ])("%p is a usage error naming the problem", (argv, message) => {
    expect(() => parseAbOptions(argv)).toThrow(UsageError);
    expect(() => parseAbOptions(argv)).toThrow(message);
  });

  test("--help needs no variant", () => {
    expect(parseAbOptions(["--help"]).help).toBe(true);
  });
});

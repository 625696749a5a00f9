import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../kit/args.ts";
import { REPO_ROOT } from "../kit/service-process.ts";
import { applyMutation, type Mutation, occurrences } from "./mutation.ts";
import { MUTATIONS } from "./mutations.ts";
import { parseMutateOptions, selectMutations } from "./options.ts";
import { judgeTestRun } from "./test-run.ts";

const sample: Mutation = { id: "m", breaks: "b", file: "f.ts", find: "a > b", replace: "a >= b", tests: ["f.test.ts"] };

describe("the mutation list", () => {
  test.each(MUTATIONS.map((m) => [m.id, m] as const))("%s: each snippet occurs once in its file, and the mutation changes it", (_, m) => {
    const source = readFileSync(join(REPO_ROOT, m.file), "utf8");
    const mutated = applyMutation(source, m); // throws, naming the snippet, when one is stale
    expect(mutated).not.toBe(source);
  });

  test("ids are unique; every claimed test file exists and is a test file", () => {
    const ids = MUTATIONS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of MUTATIONS) {
      expect(m.tests.length).toBeGreaterThan(0);
      for (const file of m.tests) expect({ id: m.id, file, exists: existsSync(join(REPO_ROOT, file)) && file.endsWith(".test.ts") }).toMatchObject({ exists: true });
    }
  });
});

describe("applyMutation", () => {
  test("replaces the one occurrence of each snippet", () => {
    expect(applyMutation("if (a > b) go();", sample)).toBe("if (a >= b) go();");
    const twoEdits = { ...sample, also: [{ find: "go()", replace: "stop()" }] };
    expect(applyMutation("if (a > b) go();", twoEdits)).toBe("if (a >= b) stop();");
  });

  test("refuses a snippet that is missing or occurs twice, naming it", () => {
    expect(() => applyMutation("if (c > d) go();", sample)).toThrow('m: "a > b" occurs 0 times in f.ts, expected once');
    expect(() => applyMutation("a > b; a > b;", sample)).toThrow('m: "a > b" occurs 2 times in f.ts, expected once');
  });

  test("a replacement is taken literally ($& is not a pattern)", () => {
    expect(applyMutation("a > b", { ...sample, replace: "$&$&" })).toBe("$&$&");
  });

  test("occurrences counts non-overlapping matches; an empty snippet never matches", () => {
    expect(occurrences("aaaa", "aa")).toBe(2);
    expect(occurrences("abc", "")).toBe(0);
  });
});

describe("parseMutateOptions", () => {
  const known = [sample, { ...sample, id: "n" }];

  test("defaults: every mutation, 120 s per run", () => {
    const options = parseMutateOptions([], known);
    expect(options).toEqual({ only: [], list: false, timeLimitMs: 120_000, help: false });
    expect(selectMutations(known, options).map((m) => m.id)).toEqual(["m", "n"]);
  });

  test("--only picks mutations by id, in list order; --list and --time-limit", () => {
    const options = parseMutateOptions(["--only", "n,m", "--list", "--time-limit", "30"], known);
    expect(options).toMatchObject({ only: ["n", "m"], list: true, timeLimitMs: 30_000 });
    expect(selectMutations(known, options).map((m) => m.id)).toEqual(["m", "n"]);
  });

  test("an unknown id, an empty --only or an unknown flag is a usage error naming it", () => {
    expect(() => parseMutateOptions(["--only", "x"], known)).toThrow(new UsageError('--only: unknown mutation "x" (see --list)'));
    expect(() => parseMutateOptions(["--only", ","], known)).toThrow(UsageError);
    expect(() => parseMutateOptions(["--fast"], known)).toThrow(UsageError);
  });
});

describe("judgeTestRun", () => {
  test("a failing test is named, describe blocks included, without its duration", () => {
    const output = "(pass) a > one [0.10ms]\n(fail) a > two [5000.00ms]\n  ^ this test timed out after 5000ms.\n";
    expect(judgeTestRun(1, output, false)).toMatchObject({ verdict: "failed", failedTests: ["a > two"] });
  });

  test("all passed; a failure without a failing test (a file that does not load) is an error", () => {
    expect(judgeTestRun(0, "(pass) a [1.00ms]\n", false).verdict).toBe("passed");
    expect(judgeTestRun(1, "error: Cannot find module './x.ts'\n", false).verdict).toBe("error");
  });

  test("the time limit or the test watchdog ending the run is hung, whatever else failed", () => {
    expect(judgeTestRun(null, "(fail) a [1.00ms]\n", true).verdict).toBe("hung");
    expect(judgeTestRun(137, "(fail) a [1.00ms]\ntest watchdog: x.test.ts: test #2 ...\n", false).verdict).toBe("hung");
  });
});

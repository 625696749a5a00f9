/**
 * `bun run mutate`: checks that the tests catch regressions. Each mutation of
 * tools/mutate/mutations.ts is made in turn in a scratch copy of the working tree, and only the
 * test files that claim to catch it are run. See docs/contributing.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "./kit/table.ts";
import { runTool } from "./kit/run-tool.ts";
import { REPO_ROOT } from "./kit/service-process.ts";
import { applyMutation, type Mutation } from "./mutate/mutation.ts";
import { MUTATIONS } from "./mutate/mutations.ts";
import { type MutateOptions, parseMutateOptions, selectMutations, USAGE } from "./mutate/options.ts";
import { scratchCopy } from "./mutate/scratch.ts";
import { runTestFiles, type TestRun } from "./mutate/test-run.ts";

type Result = "caught" | "survived" | "hung" | "error" | "baseline failed";

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function listMutations(mutations: readonly Mutation[]): void {
  for (const m of mutations) process.stdout.write(`${m.id}  ${m.file}\n  breaks:     ${m.breaks}\n  claimed by: ${m.tests.join(", ")}\n`);
}

/** What a run of the claiming tests says about a mutation. */
function resultOf(run: TestRun): Result {
  return run.verdict === "failed" ? "caught" : run.verdict === "passed" ? "survived" : run.verdict;
}

async function run(options: MutateOptions, signal: AbortSignal): Promise<number> {
  const mutations = selectMutations(MUTATIONS, options);
  if (options.list) {
    listMutations(mutations);
    return 0;
  }
  // Every snippet is checked before anything runs: a stale one is a mistake in the list, not a result.
  const mutated = new Map(mutations.map((m) => [m, applyMutation(readFileSync(join(REPO_ROOT, m.file), "utf8"), m)]));

  const scratch = scratchCopy(REPO_ROOT);
  log(`mutate: ${mutations.length} mutations in ${scratch.dir}`);
  try {
    const baselines = new Map<string, TestRun>();
    const rows: string[][] = [];
    for (const m of mutations) {
      if (signal.aborted) throw new Error("interrupted");
      const key = m.tests.join(" ");
      let baseline = baselines.get(key);
      if (baseline === undefined) {
        baseline = await runTestFiles(scratch.dir, m.tests, options.timeLimitMs);
        baselines.set(key, baseline);
        if (baseline.verdict !== "passed") log(`mutate: without any mutation, ${key} ended ${baseline.verdict}:\n${baseline.tail.join("\n")}`);
      }
      let result: Result = "baseline failed";
      let outcome: TestRun | undefined;
      if (baseline.verdict === "passed") {
        const path = join(scratch.dir, m.file);
        const original = readFileSync(path, "utf8");
        writeFileSync(path, mutated.get(m)!);
        try {
          outcome = await runTestFiles(scratch.dir, m.tests, options.timeLimitMs);
        } finally {
          writeFileSync(path, original);
        }
        result = resultOf(outcome);
      }
      const detail = result === "caught" ? `by "${outcome!.failedTests[0]}"` : m.breaks;
      log(`${result.padEnd(8)} ${m.id}  ${detail}${outcome === undefined ? "" : `  [${seconds(outcome.ms)}]`}`);
      if (result === "hung" || result === "error") log(outcome!.tail.join("\n"));
      rows.push([m.id, result, result === "caught" ? outcome!.failedTests[0]! : m.breaks]);
    }
    const caught = rows.filter((r) => r[1] === "caught").length;
    process.stdout.write(`\n${formatTable(["mutation", "result", "failing test / what survived"], rows, { style: "plain", alignLeft: new Set([0, 1, 2]) })}\n`);
    process.stdout.write(`\n${caught} of ${rows.length} mutations caught${caught === rows.length ? "" : `; ${rows.length - caught} not`}\n`);
    return caught === rows.length ? 0 : 1;
  } finally {
    scratch.dispose();
  }
}

await runTool({ name: "mutate", usage: USAGE, parse: (argv) => parseMutateOptions(argv, MUTATIONS), run });

import { numberFlag, parseFlags, UsageError } from "../kit/args.ts";
import type { Mutation } from "./mutation.ts";

export interface MutateOptions {
  /** Ids to run; empty: all. */
  only: string[];
  list: boolean;
  /** Longest a test run of one mutation may take before it counts as hung, ms. */
  timeLimitMs: number;
  help: boolean;
}

export const USAGE = `bun run mutate [options]

Makes each listed regression (tools/mutate/mutations.ts) in turn in a scratch copy of the working
tree, runs only the test files that claim to catch it, and reports for each: caught (naming a
failing test), survived (every test passed), or hung (no result within the time limit). Exits 1
unless every mutation is caught.

  --only <ids>          comma-separated mutation ids (default: all)
  --list                print the mutations and the tests that claim them, run nothing
  --time-limit <s>      longest test run per mutation (default 120)
  -h, --help            this text
`;

export function parseMutateOptions(argv: readonly string[], known: readonly Mutation[]): MutateOptions {
  const values = parseFlags(argv, {
    only: { type: "string" },
    list: { type: "boolean", default: false },
    "time-limit": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  const only = (values.only ?? "").split(",").map((id) => id.trim()).filter((id) => id !== "");
  const unknown = only.filter((id) => !known.some((m) => m.id === id));
  if (values.only !== undefined && only.length === 0) throw new UsageError("--only: expected comma-separated mutation ids");
  if (unknown.length > 0) throw new UsageError(`--only: unknown mutation ${unknown.map((id) => JSON.stringify(id)).join(", ")} (see --list)`);
  return {
    only,
    list: values.list === true,
    timeLimitMs: numberFlag("time-limit", values["time-limit"], 120) * 1000,
    help: values.help === true,
  };
}

/** The mutations `options` select, in list order. */
export function selectMutations(all: readonly Mutation[], options: Pick<MutateOptions, "only">): Mutation[] {
  return options.only.length === 0 ? [...all] : all.filter((m) => options.only.includes(m.id));
}

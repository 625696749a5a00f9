import { listFlag, parseFlags } from "../kit/args.ts";

export interface HaDrillOptions {
  quick: boolean;
  /** Scenario names to run, in the runner's order. */
  only: string[];
  json: boolean;
  help: boolean;
}

export function usage(names: readonly string[]): string {
  return `bun run drill:ha [options]

Builds each topology for real on loopback (throwaway PostgreSQL clusters, a streaming standby from
pg_basebackup -R, Debian's pgbouncer, redis-server), starts storagesvc and booksvc from source in
front of it, puts load on, injects the fault, and prints one table per scenario (requests, books
share, errors, p99, max, time to fresh, wrong answers) with the targets it checks. Exit code 1 when
a target does not hold. Scenarios: ${names.join(", ")}.

  --quick          short phases and fewer requests (CI)
  --only <list>    comma-separated scenario names (default all, in the order above)
  --json           print the results as JSON on stdout (progress and tables go to stderr)
  -h, --help       this text
`;
}

export function parseHaDrillOptions(argv: readonly string[], names: readonly string[]): HaDrillOptions {
  const values = parseFlags(argv, {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  const chosen = listFlag("only", values.only, names, names);
  return {
    quick: values.quick === true,
    only: names.filter((name) => chosen.includes(name)),
    json: values.json === true,
    help: values.help === true,
  };
}

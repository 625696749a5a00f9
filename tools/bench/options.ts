import { strategyNames } from "../../internal/resilience/index.ts";
import { listFlag, numberFlag, parseFlags } from "../kit/args.ts";

/** What `--only` can pick, in the order the bench starts them: the one list the usage and the check read. */
export const BENCH_TARGETS = ["ceiling", "storagesvc", ...strategyNames.map((s) => `booksvc-${s}` as const), "booksvc-cache", "collapsing"] as const;
export type BenchTarget = (typeof BENCH_TARGETS)[number];

/** Unrecorded seconds of open-loop load before its window: connections open, the rate settles. */
export const OPEN_LOOP_WARMUP_S = 0.5;

/** Command-line options of `bun run bench`. */
export interface BenchOptions {
  /** Recorded seconds per target per round. */
  durationS: number;
  /** Unrecorded seconds before each recorded window (fresh connections, JIT, pools). */
  warmupS: number;
  /** Keep-alive connections: closed loop, one request in flight each; open loop, the most open at once. */
  concurrency: number;
  /** Open-loop rate of every target, req/s; when unset, `rateFraction` of what it answered closed loop in the same round. */
  rate: number | undefined;
  /** The open-loop rate as a fraction of the closed-loop req/s measured just before it. */
  rateFraction: number;
  /** Passes over all targets, each in a rotated order; results are aggregated over rounds. */
  rounds: number;
  /** Starts per binary for the start-to-first-200 median. */
  starts: number;
  json: boolean;
  /** Run `bun cmd/<svc>/main.ts` instead of the compiled binaries. */
  source: boolean;
  /** Services' LOG_LEVEL; production's `info` unless asked otherwise. */
  logLevel: string;
  /** When set, services run from source with `--cpu-prof-md` writing here. */
  profileDir: string | undefined;
  /** Only these targets; all when empty. */
  only: BenchTarget[];
  help: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  // 16 targets x 3 rounds x (1 s + 2 s closed loop, then 0.5 s + 2 s open loop) = 264 s of load.
  // Several short rounds: other work on a shared machine comes and goes, and each target then
  // gets its share of quiet and busy moments. 32 clients: the collapsing target is stated there.
  durationS: 2,
  warmupS: 1,
  concurrency: 32,
  rate: undefined,
  // Half of capacity: a target's speed moves by up to 2x between rounds on a shared machine, and a
  // rate above what it can answer measures the queue, not the service.
  rateFraction: 0.5,
  rounds: 3,
  starts: 7,
  json: false,
  source: false,
  logLevel: "info",
  profileDir: undefined,
  only: [],
  help: false,
};

export const USAGE = `usage: bun run bench [options]
  --duration <s>      recorded seconds per target per round (default ${DEFAULT_OPTIONS.durationS})
  --warmup <s>        unrecorded warm-up seconds before each (default ${DEFAULT_OPTIONS.warmupS})
  --concurrency <n>   keep-alive connections: closed loop, one request in flight each; open loop,
                      the most open at once (default ${DEFAULT_OPTIONS.concurrency})
  --rate <n>          open-loop req/s for every target (default: --rate-fraction of its closed-loop req/s)
  --rate-fraction <f> open-loop rate as a fraction of the closed-loop req/s of the same round (default ${DEFAULT_OPTIONS.rateFraction})
  --rounds <n>        passes over all targets, in rotated order (default ${DEFAULT_OPTIONS.rounds})
  --starts <n>        starts per binary for the startup median (default ${DEFAULT_OPTIONS.starts}; 0 skips)
  --json              print the results as JSON instead of tables
  --source            run the services from source instead of dist/ binaries
  --log-level <l>     services' LOG_LEVEL (default info, as in production)
  --profile <dir>     run from source with bun --cpu-prof-md, profiles written to <dir>
  --only <a,b>        only these targets, from ${BENCH_TARGETS.join(", ")}
  -h, --help          this text
env DATABASE_URL      use this database as is (default: a fresh database on 127.0.0.1:5432, dropped after)
`;

/** Parses argv; throws a UsageError naming the bad option or value. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const values = parseFlags(argv, {
    duration: { type: "string" },
    warmup: { type: "string" },
    concurrency: { type: "string" },
    rate: { type: "string" },
    "rate-fraction": { type: "string" },
    rounds: { type: "string" },
    starts: { type: "string" },
    json: { type: "boolean" },
    source: { type: "boolean" },
    "log-level": { type: "string" },
    profile: { type: "string" },
    only: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const d = DEFAULT_OPTIONS;
  return {
    durationS: numberFlag("duration", values.duration, d.durationS),
    warmupS: numberFlag("warmup", values.warmup, d.warmupS, { allowZero: true }),
    concurrency: numberFlag("concurrency", values.concurrency, d.concurrency, { integer: true }),
    rate: values.rate === undefined ? undefined : numberFlag("rate", values.rate, 1),
    rateFraction: numberFlag("rate-fraction", values["rate-fraction"], d.rateFraction),
    rounds: numberFlag("rounds", values.rounds, d.rounds, { integer: true }),
    starts: numberFlag("starts", values.starts, d.starts, { integer: true, allowZero: true }),
    json: values.json === true,
    source: values.source === true || values.profile !== undefined,
    logLevel: values["log-level"] ?? d.logLevel,
    profileDir: values.profile,
    only: listFlag("only", values.only, BENCH_TARGETS, []),
    help: values.help === true,
  };
}

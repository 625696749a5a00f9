import { numberFlag, parseFlags } from "../kit/args.ts";

export interface ScaleLoad {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Passes over every table's pages, each in a rotated order. */
  rounds: number;
}

/** Command-line options of `bun run bench:scale`. */
export interface ScaleOptions {
  /** Table sizes in books, one fresh database each. */
  rows: number[];
  load: ScaleLoad;
  /** Services' LOG_LEVEL; production's `info` unless asked otherwise. */
  logLevel: string;
  json: boolean;
  help: boolean;
}

export const DEFAULT_SCALE_OPTIONS: ScaleOptions = {
  rows: [2, 10_000, 1_000_000],
  load: { concurrency: 16, warmupMs: 1_000, durationMs: 3_000, rounds: 2 },
  logLevel: "info",
  json: false,
  help: false,
};

const d = DEFAULT_SCALE_OPTIONS;

export const SCALE_USAGE = `usage: bun run bench:scale [options]
  --rows <a,b>        table sizes in books, a fresh database each (default ${d.rows.join(",")})
  --duration <s>      recorded seconds per page, service and round (default ${d.load.durationMs / 1000})
  --warmup <s>        unrecorded warm-up seconds before each (default ${d.load.warmupMs / 1000})
  --rounds <n>        passes over every table's pages, in varied order (default ${d.load.rounds})
  --concurrency <n>   keep-alive connections, one request in flight each (default ${d.load.concurrency})
  --log-level <l>     services' LOG_LEVEL (default ${d.logLevel}, as in production)
  --json              print the results as JSON instead of a table
  -h, --help          this text
`;

/** Parses argv; throws a UsageError naming the bad option or value. */
export function parseScaleOptions(argv: readonly string[]): ScaleOptions {
  const values = parseFlags(argv, {
    rows: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    concurrency: { type: "string" },
    "log-level": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  return {
    rows: values.rows === undefined ? [...d.rows] : values.rows.split(",").map((n) => numberFlag("rows", n, 0, { integer: true })),
    load: {
      concurrency: numberFlag("concurrency", values.concurrency, d.load.concurrency, { integer: true }),
      warmupMs: numberFlag("warmup", values.warmup, d.load.warmupMs / 1000, { allowZero: true }) * 1000,
      durationMs: numberFlag("duration", values.duration, d.load.durationMs / 1000) * 1000,
      rounds: numberFlag("rounds", values.rounds, d.load.rounds, { integer: true }),
    },
    logLevel: values["log-level"] ?? d.logLevel,
    json: values.json === true,
    help: values.help === true,
  };
}

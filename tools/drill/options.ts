import { parseArgs } from "node:util";

export const STRATEGIES = ["none", "retry", "breaker", "combined"] as const;

export interface DrillOptions {
  /** Length of each fault, ms. */
  durationMs: number;
  /** Concurrent clients per strategy. */
  concurrency: number;
  strategies: string[];
  json: boolean;
  /** Pause of each client between two requests, ms. */
  thinkMs: number;
  /** Client timeout, ms. */
  clientTimeoutMs: number;
  help: boolean;
}

export const USAGE = `bun run drill [options]

Starts the real services (embedded PGlite unless DATABASE_URL is set) with one fresh booksvc per
strategy, side by side, each with its own clients, and runs three faults in turn through the fault
proxies: database down, storagesvc down, database slow (answers later than UPSTREAM_TIMEOUT_MS).

  --duration <s>         length of each fault (default 20)
  --concurrency <n>      clients per strategy (default 16)
  --strategies <list>    comma-separated, from none,retry,breaker,combined (default all)
  --think <ms>           pause of each client between requests (default 25)
  --client-timeout <s>   client gives up after this (default 20, like the article's measurement)
  --json                 print the results as JSON on stdout (progress still goes to stderr)
  -h, --help             this text
`;

export class UsageError extends Error {}

function positive(name: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: expected a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function parseDrillOptions(argv: string[]): DrillOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: "string" },
        concurrency: { type: "string" },
        strategies: { type: "string" },
        think: { type: "string" },
        "client-timeout": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const str = (key: string) => values[key] as string | undefined;
  const strategies = (str("strategies") ?? STRATEGIES.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const unknown = strategies.filter((s) => !(STRATEGIES as readonly string[]).includes(s));
  if (unknown.length > 0 || strategies.length === 0) {
    throw new UsageError(`--strategies: expected a comma-separated list of ${STRATEGIES.join(", ")}, got ${JSON.stringify(str("strategies"))}`);
  }
  return {
    durationMs: positive("duration", str("duration"), 20, false) * 1000,
    concurrency: positive("concurrency", str("concurrency"), 16, true),
    strategies: [...new Set(strategies)],
    json: values.json === true,
    thinkMs: str("think") === "0" ? 0 : positive("think", str("think"), 25, false),
    clientTimeoutMs: positive("client-timeout", str("client-timeout"), 20, false) * 1000,
    help: values.help === true,
  };
}

import { type StrategyName, strategyNames } from "../../internal/resilience/index.ts";
import { listFlag, numberFlag, parseFlags } from "../kit/args.ts";


export interface DrillOptions {
  /** Length of each fault, ms. */
  durationMs: number;
  /** Concurrent clients per strategy. */
  concurrency: number;
  strategies: StrategyName[];
  json: boolean;
  /** Pause of each client between two requests, ms. */
  thinkMs: number;
  /** Client timeout, ms. */
  clientTimeoutMs: number;
  help: boolean;
}

export const USAGE = `bun run drill [options]

Starts the real services (embedded PGlite unless DATABASE_URL is set) with one fresh booksvc per
strategy, side by side, each with its own clients, and runs four faults in turn: database down,
storagesvc down (through the fault proxies), storagesvc frozen (SIGSTOP, then SIGCONT), database
slow (answers later than UPSTREAM_TIMEOUT_MS).

  --duration <s>         length of each fault (default 20)
  --concurrency <n>      clients per strategy (default 16)
  --strategies <list>    comma-separated, from none,retry,breaker,combined (default all)
  --think <ms>           pause of each client between requests (default 25)
  --client-timeout <s>   client gives up after this (default 20, like the article's measurement)
  --json                 print the results as JSON on stdout (progress still goes to stderr)
  -h, --help             this text
`;

export function parseDrillOptions(argv: string[]): DrillOptions {
  const values = parseFlags(argv, {
    duration: { type: "string" },
    concurrency: { type: "string" },
    strategies: { type: "string" },
    think: { type: "string" },
    "client-timeout": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  return {
    durationMs: numberFlag("duration", values.duration, 20) * 1000,
    concurrency: numberFlag("concurrency", values.concurrency, 16, { integer: true }),
    strategies: listFlag("strategies", values.strategies, strategyNames, strategyNames),
    json: values.json === true,
    thinkMs: numberFlag("think", values.think, 25, { allowZero: true }),
    clientTimeoutMs: numberFlag("client-timeout", values["client-timeout"], 20) * 1000,
    help: values.help === true,
  };
}

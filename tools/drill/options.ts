import { type StrategyName, strategyNames } from "../../internal/resilience/index.ts";
import { listFlag, numberFlag, parseFlags } from "../kit/args.ts";


/**
 * Per strategy: about what 16 closed-loop clients 25 ms apart sent before (500-600 req/s), lowered
 * so that retry's 10 s waits (rate x 10 s requests in flight) stay inside the worker's bound.
 */
export const DEFAULT_RATE = 200;

export interface DrillOptions {
  /** Length of each fault, ms. */
  durationMs: number;
  /** Requests per second to each strategy's booksvc, sent at fixed times (open loop). */
  rate: number;
  strategies: StrategyName[];
  json: boolean;
  /** Where to write the HTML report (a timeline per strategy); none when undefined. */
  report: string | undefined;
  /** Client timeout, ms, from each request's intended send time. */
  clientTimeoutMs: number;
  help: boolean;
}

export const USAGE = `bun run drill [options]

Starts the real services (embedded PGlite unless DATABASE_URL is set) with one fresh booksvc per
strategy, side by side, each with its own clients, and runs four faults in turn: database down,
storagesvc down (through the fault proxies), storagesvc frozen (SIGSTOP, then SIGCONT), database
slow (answers later than UPSTREAM_TIMEOUT_MS).

  --duration <s>         length of each fault (default 20)
  --rate <n>             requests per second to each strategy, at fixed times whether or not
                         earlier ones were answered, each timed from when it was meant to leave
                         (default ${DEFAULT_RATE})
  --strategies <list>    comma-separated, from none,retry,breaker,combined (default all)
  --client-timeout <s>   a request is a timeout this long after it was meant to leave (default 20,
                         like the article's measurement)
  --json                 print the results as JSON on stdout (progress still goes to stderr),
                         with every strategy's per-second timeline
  --report <file>        write a self-contained HTML report: per strategy, second by second,
                         requests, books, latency, upstream calls and breaker state, faults shaded
  -h, --help             this text
`;

export function parseDrillOptions(argv: string[]): DrillOptions {
  const values = parseFlags(argv, {
    duration: { type: "string" },
    rate: { type: "string" },
    strategies: { type: "string" },
    "client-timeout": { type: "string" },
    json: { type: "boolean", default: false },
    report: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  return {
    durationMs: numberFlag("duration", values.duration, 20) * 1000,
    rate: numberFlag("rate", values.rate, DEFAULT_RATE),
    strategies: listFlag("strategies", values.strategies, strategyNames, strategyNames),
    json: values.json === true,
    report: values.report,
    clientTimeoutMs: numberFlag("client-timeout", values["client-timeout"], 20) * 1000,
    help: values.help === true,
  };
}

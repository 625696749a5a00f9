import { listFlag, numberFlag, parseFlags } from "../kit/args.ts";

export const SCENARIO_NAMES = [
  "rolling-restart-booksvc",
  "rolling-restart-storagesvc",
  "kill-booksvc",
  "kill-storagesvc",
  "database-down",
  "redis-and-database-down",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ClusterDrillOptions {
  /** How long the database (and Redis) stay down, ms. */
  outageMs: number;
  /** How long a killed replica stays dead before it is started again, ms. */
  killedMs: number;
  /** Warm-up before the first scenario, ms. */
  warmupMs: number;
  /** Requests per second through HAProxy all along, at fixed times (open loop). */
  rate: number;
  /** Client timeout, ms, from each request's intended send time. */
  clientTimeoutMs: number;
  scenarios: ScenarioName[];
  json: boolean;
  /** Where to write the HTML report (a timeline per scenario); none when undefined. */
  report: string | undefined;
  /** Keep the replicas' logs and haproxy.cfg (always kept when the drill fails). */
  keepLogs: boolean;
  help: boolean;
}

export const USAGE = `bun run drill:cluster [options]

Runs 2 storagesvc and 3 booksvc replicas (the dist/ binaries, built when missing or stale) behind
HAProxy, one HAProxy section per tier, with an embedded PGlite (unless DATABASE_URL is set) and a
redis-server of its own (unless REDIS_URL is set). Clients call HAProxy all along while the drill
restarts every replica one at a time, kills replicas with SIGKILL, takes the database down (and
starts a new booksvc replica in the middle of it), then Redis and the database together. Prints one
table per scenario: what the clients saw, per replica that answered. Needs haproxy on PATH.

  --outage <s>           how long the database (and Redis) stay down (default 20)
  --killed <s>           how long a killed replica stays dead before its restart (default 2)
  --warmup <s>           warm-up before the first scenario (default 3)
  --rate <n>             requests per second through HAProxy, at fixed times whether or not earlier
                         ones were answered, each timed from when it was meant to leave (default 200)
  --client-timeout <s>   a request is a timeout this long after it was meant to leave (default 20)
  --scenarios <list>     comma-separated, from ${SCENARIO_NAMES.join(",")}
                         (default all, in that order)
  --quick                short run for CI: --outage 3 --killed 1 --warmup 1 --rate 50,
                         unless given explicitly
  --json                 print the results as JSON on stdout (progress and tables go to stderr),
                         with the per-second timeline of the clients through HAProxy
  --report <file>        write a self-contained HTML report: per scenario, second by second,
                         requests, books, latency, upstream calls and every breaker, scenario shaded
  --keep-logs            keep every replica's log and haproxy.cfg (kept anyway when the drill fails)
  -h, --help             this text
`;

export function parseClusterDrillOptions(argv: string[]): ClusterDrillOptions {
  const values = parseFlags(argv, {
    outage: { type: "string" },
    killed: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    "client-timeout": { type: "string" },
    scenarios: { type: "string" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    report: { type: "string" },
    "keep-logs": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  const quick = values.quick === true;
  return {
    outageMs: numberFlag("outage", values.outage, quick ? 3 : 20) * 1000,
    killedMs: numberFlag("killed", values.killed, quick ? 1 : 2, { allowZero: true }) * 1000,
    warmupMs: numberFlag("warmup", values.warmup, quick ? 1 : 3, { allowZero: true }) * 1000,
    rate: numberFlag("rate", values.rate, quick ? 50 : 200),
    clientTimeoutMs: numberFlag("client-timeout", values["client-timeout"], 20) * 1000,
    // Always run in the listed order: each scenario expects the cluster the previous one left.
    scenarios: SCENARIO_NAMES.filter((name) => listFlag("scenarios", values.scenarios, SCENARIO_NAMES, SCENARIO_NAMES).includes(name)),
    json: values.json === true,
    report: values.report,
    keepLogs: values["keep-logs"] === true,
    help: values.help === true,
  };
}

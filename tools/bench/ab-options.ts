import { isAbsolute, join } from "node:path";
import { numberFlag, parseFlags, UsageError } from "../kit/args.ts";
import { REPO_ROOT } from "./processes.ts";

/** One booksvc to measure: its name in the table, the command that starts it, its own variables. */
export interface AbVariant {
  name: string;
  command: string[];
  env: Record<string, string>;
}

/** Command-line options of `bun run bench:ab`. */
export interface AbOptions {
  variants: AbVariant[];
  /** Keep-alive connections, one request in flight each. */
  clients: number;
  /** Passes over storagesvc and every variant, each in a rotated order. */
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** Services' LOG_LEVEL; production's `info` unless asked otherwise. */
  logLevel: string;
  help: boolean;
}

export const DEFAULT_AB_OPTIONS: Omit<AbOptions, "variants" | "help"> = {
  clients: 32,
  rounds: 6,
  warmupMs: 1_000,
  durationMs: 2_000,
  logLevel: "info",
};

/** What every variant gets unless its own --env says otherwise (STORAGESVC_URL is the run's storagesvc). */
export const VARIANT_DEFAULT_ENV = { RESILIENCE_STRATEGY: "combined", COLLAPSE_REQUESTS: "true" };

const d = DEFAULT_AB_OPTIONS;

export const AB_USAGE = `usage: bun run bench:ab --variant <name>=<booksvc> [--variant ...] [options]

Measures each booksvc variant and storagesvc direct back to back, in rotated rounds, and prints
each variant's req/s as a ratio to storagesvc direct in the same round (median and range over the
rounds) with its CPU per request. For comparing two builds or settings of booksvc on a machine
whose speed changes from minute to minute: a ratio measured seconds apart is steadier than req/s.

  --variant <name>=<path>      a booksvc to measure: a compiled binary, or a .ts entry run with bun
                               (repeatable; e.g. --variant main=dist/booksvc --variant mine=/tmp/booksvc)
  --env <name>:<VAR>=<value>   a variable for one variant (repeatable; e.g. --env main:LOG_LEVEL=warn);
                               each variant gets ${Object.entries(VARIANT_DEFAULT_ENV).map(([k, v]) => `${k}=${v}`).join(" ")} unless set
  --clients <n>                keep-alive connections, one request in flight each (default ${d.clients})
  --rounds <n>                 passes over storagesvc and the variants (default ${d.rounds})
  --duration <s>               recorded seconds per target per round (default ${d.durationMs / 1000})
  --warmup <s>                 unrecorded warm-up seconds before each (default ${d.warmupMs / 1000})
  --log-level <l>              services' LOG_LEVEL (default ${d.logLevel}, as in production)
  -h, --help                   this text
env DATABASE_URL               use this database as is (default: a fresh database on 127.0.0.1:5432, dropped after)
`;

const NAME = /^[\w-]+$/;
const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

/** A variant's command: a `.ts` entry runs with this Bun; a relative path is from the repository. */
function commandOf(path: string): string[] {
  const absolute = isAbsolute(path) ? path : join(REPO_ROOT, path);
  return path.endsWith(".ts") ? [process.execPath, absolute] : [absolute];
}

/** Parses argv; throws a UsageError naming the bad option or value. */
export function parseAbOptions(argv: readonly string[]): AbOptions {
  const values = parseFlags(argv, {
    variant: { type: "string", multiple: true },
    env: { type: "string", multiple: true },
    clients: { type: "string" },
    rounds: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "log-level": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const help = values.help === true;
  const variants: AbVariant[] = [];
  for (const spec of values.variant ?? []) {
    const at = spec.indexOf("=");
    const name = spec.slice(0, at);
    const path = spec.slice(at + 1);
    if (at < 0 || !NAME.test(name) || path === "") throw new UsageError(`--variant: expected <name>=<path> with a name of letters, digits, - or _, got ${JSON.stringify(spec)}`);
    if (variants.some((v) => v.name === name)) throw new UsageError(`--variant: the name ${JSON.stringify(name)} is given twice`);
    variants.push({ name, command: commandOf(path), env: {} });
  }
  if (variants.length === 0 && !help) throw new UsageError("--variant: give at least one booksvc to measure");
  for (const spec of values.env ?? []) {
    const colon = spec.indexOf(":");
    const equals = spec.indexOf("=", colon);
    const variant = variants.find((v) => v.name === spec.slice(0, colon));
    const variable = spec.slice(colon + 1, equals);
    if (colon < 0 || equals < 0 || variant === undefined || !VARIABLE.test(variable)) {
      throw new UsageError(`--env: expected <variant>:<VAR>=<value> for one of ${variants.map((v) => v.name).join(", ")}, got ${JSON.stringify(spec)}`);
    }
    variant.env[variable] = spec.slice(equals + 1);
  }
  return {
    variants,
    clients: numberFlag("clients", values.clients, d.clients, { integer: true }),
    rounds: numberFlag("rounds", values.rounds, d.rounds, { integer: true }),
    durationMs: numberFlag("duration", values.duration, d.durationMs / 1000) * 1000,
    warmupMs: numberFlag("warmup", values.warmup, d.warmupMs / 1000, { allowZero: true }) * 1000,
    logLevel: values["log-level"] ?? d.logLevel,
    help,
  };
}

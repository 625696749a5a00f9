import { z } from "zod";
import { DEFAULT_GRACE_MS } from "../httpx/serve.ts";
import { redactUrl, redactUrlsInText } from "../logging/redact.ts";

/** The environment a service reads its configuration from; tests pass a plain object. */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** Every problem found in the environment, one line each, naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * A variable's reader: what it accepts and its default, as a user writes them (for problem lines
 * and the configuration reference), and a zod schema for the raw string.
 */
export interface EnvVar<T> {
  /** The accepted values, without the default: "an integer from 1 to 1000". */
  readonly accepts: string;
  /** The value used when the variable is unset or empty, as written in the environment; `undefined`: none. */
  readonly fallback: string | undefined;
  readonly schema: z.ZodType<T, string | undefined>;
  /** How a rejected raw value is shown in the problem line (default: any URL in it redacted); secrets must not be echoed. */
  readonly show?: (raw: string) => string;
}

type Readers = Record<string, EnvVar<unknown>>;
type ConfigOf<R extends Readers> = { [K in keyof R]: R[K] extends EnvVar<infer T> ? T : never };

/**
 * Reads every variable named in `readers` from `env`. Collects all problems before failing, so a
 * user fixes their configuration in one pass instead of one restart per mistake.
 */
export function readEnv<R extends Readers>(env: EnvRecord, readers: R): ConfigOf<R> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, reader] of Object.entries(readers)) {
    const raw = env[name];
    const parsed = reader.schema.safeParse(raw === "" ? undefined : raw);
    if (parsed.success) config[name] = parsed.data;
    else {
      const shown = raw === undefined ? raw : (reader.show ?? redactUrlsInText)(raw);
      problems.push(`${name}: got ${JSON.stringify(shown)}, expected ${describeAccepted(reader)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<R>;
}

/** What a problem line says is expected: "an integer from 1 to 1000 (default 10)". */
function describeAccepted(reader: Pick<EnvVar<unknown>, "accepts" | "fallback">): string {
  return reader.fallback === undefined ? reader.accepts : `${reader.accepts} (default ${reader.fallback})`;
}

/**
 * A variable read by `parse` (given the trimmed raw string; `undefined` means rejected), with
 * `fallback` when unset, shown as `shownFallback`. The building block of the readers below, and
 * of service-specific ones.
 */
export function envVar<T>(
  accepts: string,
  fallback: T,
  parse: (raw: string) => T | undefined,
  shownFallback: string | undefined = fallback === undefined ? undefined : String(fallback),
): EnvVar<T> {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      const value = parse(raw.trim());
      if (value === undefined) {
        ctx.addIssue({ code: "custom", message: accepts });
        return z.NEVER;
      }
      return value;
    });
  return { accepts, fallback: shownFallback, schema };
}

/** A TCP port written `8082` or `:8082` (the article's form). */
export function portVar(fallback: number): EnvVar<number> {
  return envVar(
    `a port 1-65535 written as ${fallback} or :${fallback}`,
    fallback,
    (raw) => {
      const match = /^:?(\d{1,5})$/.exec(raw);
      const port = match ? Number(match[1]) : NaN;
      return port >= 1 && port <= 65535 ? port : undefined;
    },
    `:${fallback}`,
  );
}

/** An integer within [min, max]. */
export function intVar(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): EnvVar<number> {
  return envVar(`an integer from ${min} to ${max}`, fallback, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  });
}

/** A decimal number within [min, max]. */
export function numberVar(fallback: number, min: number, max: number): EnvVar<number> {
  return envVar(`a number from ${min} to ${max}`, fallback, (raw) => {
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(raw)) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  });
}

/** `true` or `false`. */
export function boolVar(fallback: boolean): EnvVar<boolean> {
  return envVar("true or false", fallback, (raw) => (raw === "true" ? true : raw === "false" ? false : undefined));
}

/** One of a fixed set of words. */
export function enumVar<const T extends string>(values: readonly T[], fallback: T): EnvVar<T> {
  return envVar(`one of ${values.join(", ")}`, fallback, (raw) =>
    (values as readonly string[]).includes(raw) ? (raw as T) : undefined,
  );
}

/** An absolute URL whose scheme is one of `protocols` (e.g. ["postgres:", "postgresql:"]). */
export function urlVar(fallback: string, protocols: readonly string[]): EnvVar<string> {
  const schemes = protocols.map((p) => `${p}//`).join(" or ");
  const reader = envVar(`a URL starting with ${schemes}`, fallback, (raw) => {
    if (!URL.canParse(raw)) return undefined;
    const url = new URL(raw);
    return protocols.includes(url.protocol) && url.hostname !== "" ? raw : undefined;
  });
  return { ...reader, show: redactUrl };
}

/** An optional value: `undefined` when unset, else parsed like `inner` would parse it. */
export function optionalVar<T>(inner: EnvVar<T>, accepts = inner.accepts): EnvVar<T | undefined> {
  return envVar<T | undefined>(`${accepts}, or unset`, undefined, (raw) => {
    const parsed = inner.schema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  });
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL, shared by both services. */
export const logLevelVar = (): EnvVar<LogLevel> => enumVar(LOG_LEVELS, "info");

/** The longest SHUTDOWN_DELAY_MS: ten minutes, far beyond any load balancer's reaction time. */
export const MAX_SHUTDOWN_DELAY_MS = 600_000;

/**
 * SHUTDOWN_DELAY_MS, shared by both services: after SIGTERM, how long the service keeps answering
 * (readiness 503) before it stops accepting, so load balancers stop sending it requests first.
 */
export const shutdownDelayVar = (): EnvVar<number> => intVar(0, 0, MAX_SHUTDOWN_DELAY_MS);

/** What the variables both services read mean (docs/configuration.md), written once. */
export const SHARED_ENV_MEANINGS = {
  HTTP_PORT: "Port the HTTP server listens on, on every interface.",
  SHUTDOWN_DELAY_MS: `On SIGTERM or SIGINT, how long to keep answering, with \`/readyz\` at \`503\` and every answer carrying \`Connection: close\`, before no longer accepting connections; then in-flight requests get up to ${DEFAULT_GRACE_MS / 1000} s. Set it longer than your load balancer takes to act on readiness.`,
  LOG_LEVEL: "Lowest level written to the JSON log on stdout.",
} as const;

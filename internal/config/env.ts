import * as z from "zod/mini";
import { LOG_LEVELS, type LogLevel } from "../logging/levels.ts";
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
  readonly schema: z.ZodMiniType<T, string | undefined>;
  /** How a rejected raw value is shown in the problem line (default: any URL in it redacted); secrets must not be echoed. */
  readonly show?: (raw: string) => string;
}

/**
 * A variable as a service declares it: how it is read and what it means, in one place. The
 * service's config type is derived from its settings (`ConfigOf`), and docs/configuration.md
 * from the same declarations (`bun run docs`).
 */
export interface EnvSetting<T> extends EnvVar<T> {
  /** What the variable does, for docs/configuration.md (Markdown, one paragraph). */
  readonly meaning: string;
}

/** `reader` with what the variable means: one declaration per variable. */
export function setting<T>(reader: EnvVar<T>, meaning: string): EnvSetting<T> {
  return { ...reader, meaning };
}

type Readers = Record<string, EnvVar<unknown>>;

/** The configuration `readers` produce: one field per variable, typed by its reader. */
export type ConfigOf<R extends Readers> = Readonly<{ [K in keyof R]: R[K] extends EnvVar<infer T> ? T : never }>;

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
  const schema = z.pipe(
    z.optional(z.string()),
    z.transform((raw: string | undefined, ctx) => {
      if (raw === undefined) return fallback;
      const value = parse(raw.trim());
      if (value === undefined) {
        ctx.issues.push({ code: "custom", message: accepts, input: raw });
        return z.NEVER;
      }
      return value;
    }),
  );
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

/** Where a service listens: a port, on every interface unless `hostname` names one address. */
export interface ListenAddress {
  readonly hostname: string | undefined;
  readonly port: number;
}

/**
 * HTTP_PORT: `8082`, `:8082` (the article's form, every interface) or `127.0.0.1:8082` /
 * `[::1]:8082` (one address).
 */
export function listenVar(fallback: number): EnvVar<ListenAddress> {
  return envVar<ListenAddress>(
    `a port 1-65535 written as ${fallback} or :${fallback}, or an address and port such as 127.0.0.1:${fallback}`,
    { hostname: undefined, port: fallback },
    (raw) => {
      const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)?:)?(\d{1,5})$/.exec(raw);
      const port = match ? Number(match[2]) : NaN;
      if (!(port >= 1 && port <= 65535)) return undefined;
      const host = match?.[1];
      return { hostname: host === undefined ? undefined : host.replace(/^\[(.*)\]$/, "$1"), port };
    },
    `:${fallback}`,
  );
}

/** "port 8082" or "127.0.0.1:8082", for messages. */
export function describeListen({ hostname, port }: ListenAddress): string {
  return hostname === undefined ? `port ${port}` : `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** `host:port`, one server of a list (Redis Sentinel, Redis Cluster). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (`[::1]:6379` for IPv6); undefined when it is not one. */
export function parseHostPort(raw: string): HostPort | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 1 && port <= 65535)) return undefined;
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/** A comma-separated list of `host:port` (at least one); unset = undefined. */
export function hostPortListVar(): EnvVar<readonly HostPort[] | undefined> {
  return envVar<readonly HostPort[] | undefined>("a comma-separated list of host:port, e.g. 10.0.0.1:26379,10.0.0.2:26379, or unset", undefined, (raw) => {
    const servers = raw.split(",").map(parseHostPort);
    return servers.length > 0 && servers.every((s) => s !== undefined) ? (servers as HostPort[]) : undefined;
  });
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

/**
 * A PostgreSQL URL, with one host or several (`postgres://u@h1:5432,h2:5432/db?target_session_attrs=primary`,
 * the libpq form postgres.js reads). `URL` cannot parse a host list, so each host is checked on its own.
 */
export function postgresUrlVar(fallback: string): EnvVar<string> {
  const schemes = ["postgres:", "postgresql:"];
  const reader = envVar(`a URL starting with postgres:// or postgresql://, with one host or a comma-separated list`, fallback, (raw) => {
    const match = /^([a-z]+:)\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(raw);
    if (!match || !schemes.includes(match[1]!.toLowerCase())) return undefined;
    const hosts = match[2]!.split(",");
    const valid = hosts.every((host) => host !== "" && URL.canParse(`${match[1]}//${host}`) && new URL(`${match[1]}//${host}`).hostname !== "");
    return valid ? raw : undefined;
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

/** LOG_LEVEL, shared by both services. */
export const logLevelVar = (): EnvVar<LogLevel> => enumVar(LOG_LEVELS, "info");

/** After the stop begins, how long in-flight requests get to finish (the contract's 10 s). */
export const DEFAULT_GRACE_MS = 10_000;

/** The longest SHUTDOWN_DELAY_MS: ten minutes, far beyond any load balancer's reaction time. */
export const MAX_SHUTDOWN_DELAY_MS = 600_000;

/**
 * SHUTDOWN_DELAY_MS, shared by both services: after SIGTERM, how long the service keeps answering
 * (readiness 503) before it stops accepting, so load balancers stop sending it requests first.
 */
export const shutdownDelayVar = (): EnvVar<number> => intVar(0, 0, MAX_SHUTDOWN_DELAY_MS);

/** What the variables both services read mean (docs/configuration.md), written once. */
export const SHARED_ENV_MEANINGS = {
  HTTP_PORT: "Where the HTTP server listens: a port on every interface (`8082`, `:8082`), or one address and port (`127.0.0.1:8082`, `[::1]:8082`) to keep it off other networks.",
  SHUTDOWN_DELAY_MS: `On SIGTERM or SIGINT, how long to keep answering, with \`/readyz\` at \`503\` and every answer carrying \`Connection: close\`, before no longer accepting connections; then in-flight requests get up to ${DEFAULT_GRACE_MS / 1000} s. Set it longer than your load balancer takes to act on readiness.`,
  LOG_LEVEL: "Lowest level written to the JSON log on stdout.",
  OTEL_EXPORTER_OTLP_ENDPOINT:
    "OpenTelemetry: where spans go over OTLP/HTTP (`/v1/traces` is appended). Unset: no exporter runs; `traceparent` is still continued and `trace_id` logged.",
} as const;

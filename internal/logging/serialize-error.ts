import pino from "pino";
import { REDACTED, redactUrlsInText } from "./redact.ts";

/**
 * Redis commands whose arguments carry credentials: `AUTH pass`, `HELLO 3 AUTH user pass`,
 * `MIGRATE ... AUTH pass`, `ACL SETUSER u >pass`, `CONFIG SET requirepass pass`.
 */
const SECRET_COMMANDS = new Set(["auth", "hello", "migrate", "acl", "config"]);

/** Longest command argument kept in a log line (a `SET` of a cached answer would add a megabyte). */
const MAX_ARG_CHARS = 100;

/** How deep a serialized error is searched; errors are shallow, this only bounds a cycle-free walk. */
const MAX_DEPTH = 5;

/**
 * pino's `err` serializer (type, message, stack, the cause chain's messages, own properties),
 * then made safe to log: the arguments of a credential-carrying Redis command (ioredis attaches
 * the failed command as `err.command`, so a wrong password showed up in clear) are replaced, long
 * arguments shortened, and every URL in a string property has its credentials redacted. The
 * rest (message, code, command name) stays, so the line still says what went wrong.
 */
export function serializeError(value: unknown): unknown {
  return scrub(pino.stdSerializers.err(value as Error), 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactUrlsInText(value);
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const scrubbed: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    scrubbed[key] = key === "command" && isRedisCommand(field) ? scrubCommand(field) : scrub(field, depth + 1);
  }
  return scrubbed;
}

interface RedisCommand {
  name: string;
  args: unknown[];
}

function isRedisCommand(value: unknown): value is RedisCommand {
  const candidate = value as Partial<RedisCommand> | null;
  return typeof candidate?.name === "string" && Array.isArray(candidate.args);
}

function scrubCommand({ name, args }: RedisCommand): RedisCommand {
  if (SECRET_COMMANDS.has(name.toLowerCase())) return { name, args: [REDACTED] };
  return { name, args: args.map(shortArg) };
}

function shortArg(arg: unknown): unknown {
  const text = typeof arg === "string" ? arg : Buffer.isBuffer(arg) ? arg.toString("latin1") : arg;
  if (typeof text !== "string") return arg;
  const redacted = redactUrlsInText(text);
  return redacted.length <= MAX_ARG_CHARS ? redacted : `${redacted.slice(0, MAX_ARG_CHARS)}… (${redacted.length} chars)`;
}

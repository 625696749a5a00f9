import { type ParseArgsConfig, parseArgs } from "node:util";

/** A command-line mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type Flags = NonNullable<ParseArgsConfig["options"]>;

/**
 * The one argument parser of the tooling: node's `parseArgs`, strict (an unknown flag or a
 * missing value is a UsageError naming it), no positionals.
 */
export function parseFlags<F extends Flags>(argv: readonly string[], flags: F) {
  try {
    return parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A numeric flag's value: `fallback` when absent, else a finite number > 0 (or ≥ 0), whole if asked. */
export function numberFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  { integer = false, allowZero = false }: { integer?: boolean; allowZero?: boolean } = {},
): number {
  if (raw === undefined) return fallback;
  const value = raw.trim() === "" ? Number.NaN : Number(raw);
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && (!integer || Number.isInteger(value));
  if (!ok) {
    throw new UsageError(`--${name}: expected a ${integer ? "whole " : ""}number ${allowZero ? ">= 0" : "> 0"}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A comma-separated list flag, each item one of `allowed`; `fallback` when absent. */
export function listFlag<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (raw === undefined) return [...fallback];
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (items.length === 0 || unknown.length > 0) {
    const named = unknown.length === 0 ? "" : `unknown ${unknown.map((s) => JSON.stringify(s)).join(", ")}; `;
    throw new UsageError(`--${name}: ${named}expected a comma-separated list of ${allowed.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return [...new Set(items as T[])];
}

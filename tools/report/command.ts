import { booksvcEnvVars } from "../../internal/booksvc/config.ts";
import { storagesvcEnvVars } from "../../internal/storagesvc/config.ts";

/**
 * The services' variables that change what a drill measures. Left out: the ones every drill sets
 * itself (ports, strategy, addresses) and the URLs, which can carry a password.
 */
const TUNING_VARIABLES = [...new Set([...Object.keys(booksvcEnvVars), ...Object.keys(storagesvcEnvVars)])].filter(
  (name) => !/(_URL|_ADDR|HTTP_PORT|RESILIENCE_STRATEGY|LOG_LEVEL)$/.test(name),
);

/** `word` as the shell reads it back: quoted only when it has to be. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command that runs a drill again as it was run: the service variables set in `env`, then
 * `bun run <script>` with the same arguments.
 */
export function reproduceCommand(script: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  const assignments = TUNING_VARIABLES.filter((name) => env[name] !== undefined).map((name) => `${name}=${shellQuote(env[name] ?? "")}`);
  return [...assignments, "bun", "run", script, ...argv.map(shellQuote)].join(" ");
}

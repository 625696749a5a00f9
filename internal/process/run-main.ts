import { ConfigError, type EnvRecord, type ListenAddress } from "../config/env.ts";
import type { LogLevel } from "../logging/levels.ts";
import { probeHealth } from "../httpx/healthcheck.ts";
import { describeError } from "../logging/describe-error.ts";
import { createLogger, flushLogger, type Logger } from "../logging/logger.ts";

/** What a service's `main.ts` hands to `runMain`. */
export interface ServiceMain<C extends { HTTP_PORT: ListenAddress; LOG_LEVEL: LogLevel }> {
  /** `app` field of every log line. */
  app: string;
  /** Parses the environment; throws `ConfigError` listing every problem. */
  readConfig(env: EnvRecord): C;
  /** Serves until `signal` aborts, then stops gracefully and resolves. */
  run(config: C, deps: { logger: Logger }, signal: AbortSignal): Promise<void>;
  /**
   * One-off commands by name (`storagesvc migrate`), run instead of serving when named as the
   * first argument: resolving exits 0, throwing logs the error, says it on stderr and exits 1.
   */
  commands?: Record<string, (config: C, deps: { logger: Logger }) => Promise<void>>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_CONFIG = 2;

/**
 * The only place that decides how the process ends. `healthcheck` as first argument probes the
 * local `/healthz` instead of serving; the name of one of `service.commands` runs that command.
 * Bad configuration: one line per problem on stderr, exit 2, nothing started. SIGTERM/SIGINT:
 * graceful stop, exit 0.
 */
export async function runMain<C extends { HTTP_PORT: ListenAddress; LOG_LEVEL: LogLevel }>(
  service: ServiceMain<C>,
  argv: readonly string[] = process.argv.slice(2),
  env: EnvRecord = process.env,
): Promise<never> {
  let config: C;
  try {
    config = service.readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${service.app}: ${problem}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }

  if (argv[0] === "healthcheck") process.exit((await probeHealth(config.HTTP_PORT)) ? EXIT_OK : EXIT_FAILURE);

  const logger = createLogger({ app: service.app, level: config.LOG_LEVEL });
  const command = argv[0] === undefined ? undefined : service.commands?.[argv[0]];
  if (command !== undefined) process.exit(await runCommand(`${service.app} ${argv[0]}`, () => command(config, { logger }), logger));
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    logger.info({ signal }, "stopping");
    stop.abort(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  let code = EXIT_OK;
  try {
    await service.run(config, { logger }, stop.signal);
    logger.info("stopped");
  } catch (error) {
    logger.fatal({ err: error }, "failed");
    code = EXIT_FAILURE;
  }
  await flushLogger(logger);
  process.exit(code);
}

/** Runs a one-off command: its exit code, with a failure both logged and said on stderr. */
async function runCommand(name: string, command: () => Promise<void>, logger: Logger): Promise<number> {
  let code = EXIT_OK;
  try {
    await command();
  } catch (error) {
    logger.fatal({ err: error }, `${name} failed`);
    process.stderr.write(`${name}: ${describeError(error)}\n`);
    code = EXIT_FAILURE;
  }
  await flushLogger(logger);
  return code;
}

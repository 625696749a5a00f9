import pino from "pino";
import type { LogLevel } from "../config/env.ts";

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Written on every line as `app`, so lines from both services can share one stream. */
  app: string;
  level: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a stream they can read. */
  destination?: pino.DestinationStream;
}

/**
 * One JSON object per line: `level` as a word, `time` as ISO-8601, `msg`, `app`.
 * No transport on purpose: transports run in a worker thread, which a `bun build --compile`
 * binary cannot load from node_modules. Stdout is written asynchronously (sonic-boom) so logging
 * never blocks a request; `flushLogger` drains it before the process exits.
 */
export function createLogger({ app, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { app },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Writes out whatever the logger still holds; call it last, before exiting. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** The URL with its password replaced by `***`, so it can be logged. */
export function maskUrlPassword(raw: string): string {
  if (!URL.canParse(raw)) return "<unparseable url>";
  const url = new URL(raw);
  if (url.password !== "") url.password = "***";
  return url.toString();
}

import pino from "pino";
import type { LogLevel } from "./levels.ts";
import { serializeError } from "./serialize-error.ts";
import { ensureTracingChannelHasSubscribers } from "./tracing-channel-subscribers.ts";

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Written on every line as `app`, so lines from both services can share one stream. */
  app: string;
  level: LogLevel;
  /** Where lines go; defaults to stdout (see `turnBatchedDestination`). Tests pass a stream they can read. */
  destination?: pino.DestinationStream;
}

/**
 * One JSON object per line: `level` as a word, `time` as ISO-8601, `msg`, `app`. An error under
 * `err` or `error` is serialized without credentials (see `serializeError`); a URL logged under
 * any other field must go through `redactUrl` first.
 * No transport on purpose: transports run in a worker thread, which a `bun build --compile`
 * binary cannot load from node_modules. `flushLogger` writes out what is left before an exit.
 */
export function createLogger({ app, level, destination }: LoggerOptions): Logger {
  ensureTracingChannelHasSubscribers(); // pino's lines skip traceSync when nobody listens (see there)
  return pino(
    {
      level,
      base: { app },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
    },
    destination ?? turnBatchedDestination(Bun.stdout.writer()),
  );
}

/** Writes out whatever the logger still holds (pino's `flush`); call it last, before exiting. */
export function flushLogger(logger: Logger, timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    // A stdout nobody reads must not keep the process from exiting.
    const timer = setTimeout(resolve, timeoutMs);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The part of Bun's `FileSink` a log destination needs. */
export interface ChunkWriter {
  write(chunk: string): unknown;
  flush(): unknown;
}

/**
 * Hands `writer` the lines logged during one event-loop turn as one chunk, at the end of the
 * turn; `flush(done)` writes out the rest (what `logger.flush` calls).
 */
// Hand-made, not pino.destination (whose async writes cross Bun's thread pool): keeps booksvc-cache at its bench target.
export function turnBatchedDestination(writer: ChunkWriter): pino.DestinationStream & { flush(done: (error?: Error) => void): void } {
  let pending = "";
  const writePending = (): void => {
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    writer.write(chunk);
  };
  // A process ending without flushLogger (an uncaught error) still writes this turn's lines.
  process.once("exit", writePending);
  return {
    write(line: string) {
      if (pending === "") setImmediate(writePending);
      pending += line;
    },
    flush(done) {
      writePending();
      Promise.resolve(writer.flush()).then(
        () => done(),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    },
  };
}

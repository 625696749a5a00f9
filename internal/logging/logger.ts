import pino from "pino";
import type { LogLevel } from "../config/env.ts";
import { serializeError } from "./serialize-error.ts";

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Written on every line as `app`, so lines from both services can share one stream. */
  app: string;
  level: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a stream they can read. */
  destination?: pino.DestinationStream;
}

/**
 * One JSON object per line: `level` as a word, `time` as ISO-8601, `msg`, `app`. An error under
 * `err` or `error` is serialized without credentials (see `serializeError`); a URL logged under
 * any other field must go through `redactUrl` first.
 * No transport on purpose: transports run in a worker thread, which a `bun build --compile`
 * binary cannot load from node_modules. Stdout is Bun's own buffered writer (see `stdoutSink`);
 * `flushLogger` drains it before the process exits.
 */
export function createLogger({ app, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { app },
      messageKey: "msg",
      timestamp: isoTimeOncePerMs(),
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
    },
    destination ?? stdoutSink(),
  );
}

/**
 * pino's `isoTime`, formatted once per millisecond: under load many lines share a millisecond,
 * and `toISOString` was most of the cost of a timestamp.
 */
function isoTimeOncePerMs(): () => string {
  let formattedMs = Number.NaN;
  let formatted = "";
  return () => {
    const now = Date.now();
    if (now !== formattedMs) {
      formattedMs = now;
      formatted = `,"time":"${new Date(now).toISOString()}"`;
    }
    return formatted;
  };
}

/**
 * Writes out whatever the logger still holds; call it last, before exiting. The default stdout
 * destination is flushed through `logger.flush(cb)` (see `stdoutSink`). For a sonic-boom
 * destination (`pino.destination()`), the logger is closed instead; not `logger.flush(cb)`: sonic-boom
 * calls that back at once when `minLength` is 0 even while a write is still in flight, and `process.exit` then drops the last lines.
 * `end()` waits for every pending write and then emits `close` (it never closes fd 1 or 2).
 */
export function flushLogger(logger: Logger, timeoutMs = 2_000): Promise<void> {
  const stream: unknown = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!isSonicBoom(stream)) {
    return new Promise((resolve) => {
      // A stdout nobody reads must not keep the process from exiting.
      const timer = setTimeout(resolve, timeoutMs);
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return new Promise((resolve) => {
    // A stdout nobody reads must not keep the process from exiting.
    const timer = setTimeout(resolve, timeoutMs);
    stream.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}

interface SonicBoomLike {
  end(): void;
  once(event: "close", listener: () => void): void;
  flushSync(): void;
}

function isSonicBoom(stream: unknown): stream is SonicBoomLike {
  const candidate = stream as Partial<SonicBoomLike> | null;
  return (
    typeof candidate?.end === "function" && typeof candidate.once === "function" && typeof candidate.flushSync === "function"
  );
}

/** The part of Bun's `FileSink` a log sink needs. */
export interface ChunkWriter {
  write(chunk: string): unknown;
  flush(): unknown;
}

/** A pino destination whose `flush(cb)` writes out what it holds (flushLogger relies on it). */
export type FlushableDestination = pino.DestinationStream & { flush(done: (error?: Error) => void): void };

/**
 * Hands `writer` the lines logged during one event-loop turn as one chunk, at the end of the turn.
 * Bun's stdout `FileSink` issues one write(2) per `write` call: one per request under load, which
 * `bun run bench` measured at about 3 µs a request (a fifth of an answer from the cache). Batched,
 * a busy turn's dozen lines leave in one write, and a lone line still leaves within the turn.
 */
export function turnBatchedDestination(writer: ChunkWriter): FlushableDestination {
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

/**
 * Stdout through Bun's native `FileSink`, which never blocks a request (sonic-boom, measured
 * against it, issued one fs.write per line and cost twice as much), one write per event-loop turn.
 */
function stdoutSink(): FlushableDestination {
  return turnBatchedDestination(Bun.stdout.writer());
}

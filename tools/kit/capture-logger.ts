import { createLogger, type Logger } from "../../internal/logging/logger.ts";

export type CapturedLine = Record<string, unknown>;

export interface CapturedLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines: CapturedLine[];
  /**
   * Resolves with the first line from index `from` on (default: the first line ever) that
   * `predicate` accepts, as soon as it is logged: a test waits for the event, not for time.
   */
  untilLine(predicate: (line: CapturedLine) => boolean, from?: number): Promise<CapturedLine>;
}

/** A real logger whose lines land in `lines` (parsed), for assertions. */
export function captureLogger(level: "debug" | "info" = "debug"): CapturedLogger {
  const lines: CapturedLine[] = [];
  const waiters = new Set<(line: CapturedLine, index: number) => void>();
  const logger = createLogger({
    app: "storagesvc",
    level,
    destination: {
      write: (text: string) => {
        const line = JSON.parse(text) as CapturedLine;
        const index = lines.push(line) - 1;
        for (const waiter of waiters) waiter(line, index);
      },
    },
  });
  const untilLine = (predicate: (line: CapturedLine) => boolean, from = 0): Promise<CapturedLine> => {
    const seen = lines.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const waiter = (line: CapturedLine, index: number): void => {
        if (index < from || !predicate(line)) return;
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
    });
  };
  return { logger, lines, untilLine };
}

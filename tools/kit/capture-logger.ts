import type { LogLevel } from "../../internal/logging/levels.ts";
import { createLogger, type Logger } from "../../internal/logging/logger.ts";

export type CapturedLine = Record<string, unknown>;

export interface CapturedLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines: CapturedLine[];
  /**
   * Resolves with the first line from index `from` on (default: the first line ever) that
   * `predicate` accepts, as soon as it is logged: a test waits for the event, not for time.
   * With `timeoutMs`, rejects after it with every line logged so far.
   */
  untilLine(predicate: (line: CapturedLine) => boolean, from?: number, timeoutMs?: number): Promise<CapturedLine>;
}

/** A real logger whose lines land in `lines` (parsed), for assertions. */
export function captureLogger({ level = "debug", app = "storagesvc" }: { level?: LogLevel; app?: string } = {}): CapturedLogger {
  const lines: CapturedLine[] = [];
  const waiters = new Set<(line: CapturedLine, index: number) => void>();
  const logger = createLogger({
    app,
    level,
    destination: {
      write: (text: string) => {
        const line = JSON.parse(text) as CapturedLine;
        const index = lines.push(line) - 1;
        for (const waiter of waiters) waiter(line, index);
      },
    },
  });
  const untilLine = (predicate: (line: CapturedLine) => boolean, from = 0, timeoutMs?: number): Promise<CapturedLine> => {
    const seen = lines.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              waiters.delete(waiter);
              reject(new Error(`no matching log line within ${timeoutMs} ms:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`));
            }, timeoutMs);
      const waiter = (line: CapturedLine, index: number): void => {
        if (index < from || !predicate(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
    });
  };
  return { logger, lines, untilLine };
}

import { createLogger, type Logger } from "../../internal/logging/logger.ts";

/** A real logger whose lines land in `lines` (parsed), for assertions. */
export function captureLogger(level: "debug" | "info" = "debug"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    app: "storagesvc",
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

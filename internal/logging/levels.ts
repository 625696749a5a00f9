/** The levels of the JSON log, lowest first: LOG_LEVEL takes one of them. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

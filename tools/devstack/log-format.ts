/** Turns the services' JSON log lines into short, aligned terminal lines. */

const LEVEL_COLORS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[41;97m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** Fields already shown in the line's fixed part, or too noisy for a terminal. */
const HIDDEN = new Set(["time", "app", "level", "msg", "pid", "hostname", "request_id", "stack"]);

export interface FormatOptions {
  color: boolean;
  /** Maximum visible width; longer lines are cut. 0 = no limit. */
  width: number;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.message === "string") return JSON.stringify(record.message);
    return JSON.stringify(value);
  }
  return typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : String(value);
}

export function formatLogLine(service: string, line: string, options: FormatOptions): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    record = parsed as Record<string, unknown>;
  } catch {
    return cut(`${clock(new Date())} ${service.padEnd(10)} ${line}`, options.width);
  }
  const time = typeof record.time === "string" ? new Date(record.time) : new Date();
  const level = String(record.level ?? "info");
  let text = String(record.msg ?? "");
  if (text === "request" && record.method !== undefined) {
    // One line per request: "GET / 200 3.1ms".
    text = `${record.method} ${record.path} ${record.status} ${record.duration_ms}ms`;
  }
  const extras = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key) && !(record.msg === "request" && ["method", "path", "status", "duration_ms"].includes(key)))
    .map(([key, value]) => `${key}=${describe(value)}`)
    .join(" ");
  const plain = `${clock(time)} ${service.padEnd(10)} ${level.padEnd(5)} ${text}${extras ? `  ${extras}` : ""}`;
  const visible = cut(plain, options.width);
  if (!options.color) return visible;
  const head = `${clock(time)} ${service.padEnd(10)} `;
  const rest = visible.slice(head.length + 6);
  return `${DIM}${head}${RESET}${LEVEL_COLORS[level] ?? ""}${level.padEnd(5)}${RESET} ${rest}`;
}

export function clock(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

function cut(text: string, width: number): string {
  return width > 0 && text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

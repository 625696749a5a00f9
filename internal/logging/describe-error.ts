import { redactUrlsInText } from "./redact.ts";

/**
 * One line for a log field or a terminal: each message of the cause chain, with the driver's code
 * when there is one; credentials in any URL redacted.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && parts.length < 5; current = (current as Error).cause) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === "string" && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
  }
  return redactUrlsInText(parts.join(": "));
}

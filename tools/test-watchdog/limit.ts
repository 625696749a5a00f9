/** Bun's own default per-test timeout. */
export const BUN_DEFAULT_TIMEOUT_MS = 5_000;
/** The limit for a file whose timeouts are not all number literals (a named constant, say). */
export const UNKNOWN_TIMEOUT_LIMIT_MS = 10 * 60_000;

/**
 * The longest per-test timeout a test file sets, read from its source: `setDefaultTimeout(N)`,
 * a test's trailing `}, N)` and `timeout: N`. Any other number literal caught by these patterns
 * only makes it longer, which is harmless. `undefined` when a timeout is not a number literal.
 */
export function longestTimeoutMs(source: string): number | undefined {
  if (/setDefaultTimeout\(\s*(?![\d_]+\s*\))/.test(source) || /\},\s*[A-Z][A-Z0-9_]*\s*\)/.test(source)) return undefined;
  let longest = BUN_DEFAULT_TIMEOUT_MS;
  for (const pattern of [/setDefaultTimeout\(\s*([\d_]+)\s*\)/g, /\},\s*([\d_]+)\s*\)/g, /\btimeout:\s*([\d_]+)/g]) {
    for (const match of source.matchAll(pattern)) longest = Math.max(longest, Number(match[1]!.replaceAll("_", "")));
  }
  return longest;
}

/**
 * How long one test of this file may run before the watchdog ends the run: twice its longest
 * timeout and 10 s more, so Bun's own timeout, which names the test, always fires first when it can.
 */
export function watchdogLimitMs(source: string): number {
  const longest = longestTimeoutMs(source);
  return longest === undefined ? UNKNOWN_TIMEOUT_LIMIT_MS : 2 * longest + 10_000;
}

import type { CacheEntry } from "./cache.ts";

/**
 * The stored envelope: a one-line header with the time the value was stored, then the value
 * as it was put, unescaped: `recache/1 t=1700000000000\n<value>`. Unescaped, a stored string is
 * never more than `ENVELOPE_MAX_BYTES` longer than its value, so a size limit on the stored string
 * is a size limit on the value (JSON escaping could have made a value up to six times longer).
 */
const HEADER_PREFIX = "recache/1 t=";
const HEADER = /^recache\/1 t=(\d{1,15})\n/;

/** The most the envelope adds to a value: the header with a 15-digit time and its newline is 28 bytes. */
export const ENVELOPE_MAX_BYTES = 32;

/** Encodes an entry for storage. */
export function encodeEntry(entry: CacheEntry): string {
  return `${HEADER_PREFIX}${entry.storedAt}\n${entry.value}`;
}

/**
 * Decodes a stored string; `undefined` when it is not an envelope (a bare body such as the
 * article's `item` key, a truncated write, another program's value). Never throws.
 */
export function decodeEntry(raw: string): CacheEntry | undefined {
  const header = HEADER.exec(raw);
  if (header === null) return undefined;
  return { value: raw.slice(header[0].length), storedAt: Number(header[1]) };
}

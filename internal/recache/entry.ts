import type { CacheEntry } from "./cache.ts";

/**
 * The stored envelope: a one-line header with the time the value was stored and, when the writer
 * gave one, the name of what the value is (booksvc: the page), then the value as it was put,
 * unescaped: `recache/1 t=1700000000000 n=limit=10&after=5\n<value>`. Unescaped, a stored string
 * is never more than `ENVELOPE_MAX_BYTES` longer than its value, so a size limit on the stored
 * string is a size limit on the value (JSON escaping could have made a value up to six times longer).
 */
const HEADER_PREFIX = "recache/1 t=";
const HEADER = /^recache\/1 t=(\d{1,15})(?: n=([!-~]{1,100}))?\n/;

/** A name: 1 to `MAX_NAME_BYTES` printable ASCII characters, no space (it ends at the header's newline). */
export const MAX_NAME_BYTES = 100;
const NAME = /^[!-~]{1,100}$/;

/** Whether `name` can be stored in the header. */
export function isEntryName(name: string): boolean {
  return NAME.test(name);
}

/** The most the envelope adds to a value: the header with a 15-digit time, a 100-byte name and its newline is 131 bytes. */
export const ENVELOPE_MAX_BYTES = 136;

/** Encodes an entry for storage. `name`, when given, must pass `isEntryName`. */
export function encodeEntry(entry: CacheEntry): string {
  const name = entry.name === undefined ? "" : ` n=${entry.name}`;
  return `${HEADER_PREFIX}${entry.storedAt}${name}\n${entry.value}`;
}

/**
 * Decodes a stored string; `undefined` when it is not an envelope (a bare body such as the
 * article's `item` key, a truncated write, another program's value). Never throws.
 */
export function decodeEntry(raw: string): CacheEntry | undefined {
  const header = HEADER.exec(raw);
  if (header === null) return undefined;
  const value = raw.slice(header[0].length);
  const storedAt = Number(header[1]);
  return header[2] === undefined ? { value, storedAt } : { value, storedAt, name: header[2] };
}

import { z } from "zod";
import type { CacheEntry } from "./cache.ts";

/**
 * The stored envelope: `{"v": value, "t": storedAt}`. It is validated on
 * read, so a key written by something else (the article's `item` key holding a
 * bare body, a truncated write, another program) reads as a miss, never as data.
 */
const envelopeSchema = z.object({
  v: z.string(),
  t: z.number().int().nonnegative(),
});

/** Encodes an entry for storage. */
export function encodeEntry(entry: CacheEntry): string {
  return JSON.stringify({ v: entry.value, t: entry.storedAt });
}

/** Decodes a stored string; `undefined` when it is not a valid envelope. Never throws. */
export function decodeEntry(raw: string): CacheEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const result = envelopeSchema.safeParse(parsed);
  if (!result.success) return undefined;
  return { value: result.data.v, storedAt: result.data.t };
}

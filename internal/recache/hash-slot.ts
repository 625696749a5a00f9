/** Redis Cluster's number of hash slots. */
export const HASH_SLOTS = 16384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The part of `key` Redis Cluster hashes: the content of the first `{…}` when it is not empty
 * (a hash tag), else the whole key.
 */
export function hashedPart(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

/** The hash slot of `key`, as `CLUSTER KEYSLOT` computes it. */
export function keySlot(key: string): number {
  return crc16(new TextEncoder().encode(hashedPart(key))) % HASH_SLOTS;
}

/**
 * A prefix that puts every key built as `prefix + suffix` in the hash slot of `key`, so a Lua
 * script or a transaction may touch `key` and those keys together on a Redis Cluster:
 * - `key` itself when it has a hash tag (`{booksvc}:books`): the suffix cannot change the tag;
 * - `{key}` when it holds no `}` (`booksvc:books` → `{booksvc:books}`): the tag's content is the
 *   whole key, which is what Redis hashes for `key`;
 * - otherwise (`a}b`, `a{}b`: no tag, yet braces that would end one early) `{N}key`, with `N` the
 *   smallest number that hashes to the same slot.
 */
export function sameSlotPrefix(key: string): string {
  if (hashedPart(key) !== key) return key;
  if (!key.includes("}")) return `{${key}}`;
  const slot = keySlot(key);
  // 16,384 slots: a number hashing to any one of them is found within a few ten thousand tries.
  for (let n = 0; ; n++) {
    if (keySlot(String(n)) === slot) return `{${n}}${key}`;
  }
}

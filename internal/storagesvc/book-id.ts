/**
 * A book whose id a JSON number cannot carry exactly (above 2^53−1): sending it rounded would
 * name another book, sending it as a string would break every client. A `500` naming the problem.
 */
export class UnsendableIdError extends Error {
  constructor(readonly id: string) {
    super(`book id ${id} is above 2^53-1 (${Number.MAX_SAFE_INTEGER}), the largest a JSON number carries exactly`);
    this.name = "UnsendableIdError";
  }
}

/**
 * A row's id as a JSON number. postgres.js hands over an `integer` column as a number and a
 * `bigint` one (int8) as a decimal string, which JSON would send as `"5"`.
 */
export function bookId(raw: number | string): number {
  if (typeof raw === "number") return raw;
  const id = Number(raw);
  if (!Number.isSafeInteger(id)) throw new UnsendableIdError(raw);
  return id;
}

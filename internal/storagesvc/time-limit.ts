/**
 * `work`, or a rejection with `onTimeout()` once `ms` have passed, whichever comes first.
 * A database that accepts connections but never answers must not hold a request or a probe
 * forever; the query itself is left to finish or fail in the pool.
 */
export async function withTimeLimit<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

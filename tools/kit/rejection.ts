/**
 * The error `promise` rejects with; rejects itself when `promise` fulfils instead.
 *
 * Await this rather than `expect(promise).rejects` wherever a regression could leave the promise
 * pending: Bun 1.4.5 waits for the promise inside that matcher, where the test's timeout cannot end
 * the wait, so the whole run hangs. A plain `await` lets the runner fail the test at its timeout,
 * naming it.
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  let value: unknown;
  try {
    value = await promise;
  } catch (reason) {
    if (reason instanceof Error) return reason;
    throw new Error(`expected a rejection with an Error, got ${String(reason)}`);
  }
  throw new Error(`expected a rejection, got a value: ${String(value)}`);
}

import type { Child } from "./child.ts";

export interface WaitOptions {
  timeoutMs: number;
  /** Fail at once, with its output, if this child exits while we wait. */
  child?: Child;
  signal?: AbortSignal;
  /** Pause between attempts; default 200 ms. */
  intervalMs?: number;
}

export interface WaitForHttpOptions extends WaitOptions {
  /** Default 200. */
  status?: number;
  /** A new connection per probe (for start-up timing, where a pooled socket would hide the listen). */
  freshConnection?: boolean;
}

/** Request id of the tooling's own probes, so their log lines can be told apart and hidden. */
export const PROBE_REQUEST_ID_PREFIX = "devstack-probe-";

/**
 * The tooling's poll loop: calls `probe` until it returns `true` and returns the
 * milliseconds that took. Any other answer (or a thrown error) describes the state seen so far;
 * after `timeoutMs` the error says "`what` within N ms (last: <that state>)", with the child's output.
 */
export async function waitUntil(what: string, probe: () => Promise<true | string>, options: WaitOptions): Promise<number> {
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let last = "no answer";
  while (performance.now() < deadline) {
    options.signal?.throwIfAborted();
    if (options.child && !options.child.running) {
      throw new Error(`${options.child.name} exited (${options.child.exitCode}) while starting:\n${options.child.tail()}`);
    }
    try {
      const outcome = await probe();
      if (outcome === true) return performance.now() - started;
      last = outcome;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await Bun.sleep(options.intervalMs ?? 200);
  }
  const output = options.child ? `\n${options.child.tail()}` : "";
  throw new Error(`${what} within ${options.timeoutMs} ms (last: ${last})${output}`);
}

/**
 * Polls `url` until it answers `status` (default 200) and returns the milliseconds that took;
 * throws with the child's output otherwise.
 */
export function waitForHttp(url: string, options: WaitForHttpOptions): Promise<number> {
  const status = options.status ?? 200;
  return waitUntil(
    `${url} did not answer ${status}`,
    async () => {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(1_000),
        headers: { "X-Request-Id": `${PROBE_REQUEST_ID_PREFIX}${crypto.randomUUID()}` },
        keepalive: options.freshConnection !== true,
      });
      await response.arrayBuffer();
      return response.status === status ? true : `status ${response.status}`;
    },
    options,
  );
}

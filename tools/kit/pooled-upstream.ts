/**
 * A stand-in storagesvc whose capacity is set by a pool, as a database pool sets the real one's:
 * `slots` requests are served at once, each holding its slot `serviceMs`; the others wait for a
 * slot in arrival order. Capacity is `slots / serviceMs` per ms, and the stand-in itself needs
 * almost no CPU, so a load generator on the same core measures the service in front of it, not
 * a fight for that core. Answers are the article's two books, as storagesvc sends them.
 */
import { DEFAULT_BOOKS } from "./fake-upstream.ts";

export interface PooledUpstreamOptions {
  slots: number;
  serviceMs: number;
}

export interface PooledUpstream {
  /** `http://127.0.0.1:<port>/books` */
  readonly url: string;
  /** Requests per second the pool can serve. */
  readonly capacityPerS: number;
  /** Requests answered so far. */
  readonly answered: number;
  /** The most requests waiting for a slot at once so far. */
  readonly maxWaiting: number;
  close(): Promise<void>;
}

const BODY = JSON.stringify(DEFAULT_BOOKS);

export function startPooledUpstream({ slots, serviceMs }: PooledUpstreamOptions): PooledUpstream {
  let busy = 0;
  let answered = 0;
  let maxWaiting = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) busy--;
    else next();
  };
  const slot = (): Promise<void> => {
    if (busy < slots) {
      busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      waiting.push(resolve);
      maxWaiting = Math.max(maxWaiting, waiting.length);
    });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch() {
      await slot();
      await Bun.sleep(serviceMs);
      release();
      answered++;
      return new Response(BODY, { headers: { "Content-Type": "application/json" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/books`,
    capacityPerS: (slots * 1000) / serviceMs,
    get answered() {
      return answered;
    },
    get maxWaiting() {
      return maxWaiting;
    },
    close: () => server.stop(true),
  };
}

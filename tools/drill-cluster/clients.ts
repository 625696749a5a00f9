import { type RequestRecord, startLoadWorker } from "../drill/load-worker.ts";
import type { Child } from "../kit/child.ts";
import { FRONT_TARGET } from "./report.ts";

export interface ClientsOptions {
  /** Client timeout, ms, from each request's intended send time. */
  timeoutMs: number;
  /** Output of the workers that is not a request record (errors). */
  onOtherLine: (line: string) => void;
}

/**
 * The drill's clients: load workers (tools/drill/load-worker.ts), each its own process so they
 * never share an event loop with what they measure, sending at a fixed rate (open loop), and every
 * request they finished, timed from when it was meant to leave.
 */
export class Clients {
  readonly records: RequestRecord[] = [];
  readonly #workers = new Set<Child>();

  constructor(private readonly options: ClientsOptions) {}

  /** Starts `rate` requests per second to `url`, recorded under `name`; `stop` the returned worker to end them. */
  start(name: string, url: string, rate: number, recordHeader?: string): Child {
    const worker = startLoadWorker(
      name,
      { targets: [{ name, url }], load: { rate }, timeoutMs: this.options.timeoutMs, ...(recordHeader ? { recordHeader } : {}) },
      (record) => this.records.push(record),
      this.options.onOtherLine,
    );
    this.#workers.add(worker);
    void worker.exited.then(() => this.#workers.delete(worker));
    return worker;
  }

  /** Requests through HAProxy started at or after `since`. */
  throughHaproxySince(since: number): RequestRecord[] {
    return this.records.filter((r) => r.target === FRONT_TARGET && r.startedAt >= since);
  }

  /** Whether `replica` answered fresh books through HAProxy to a request started at or after `since`. */
  servedFresh(replica: string, since: number): boolean {
    return this.records.some((r) => r.target === FRONT_TARGET && r.header === replica && r.fresh && r.startedAt >= since);
  }

  /** Whether `replica` answered (anything) through HAProxy, or to its direct clients, since `since`. */
  answered(replica: string, since: number, how: "through haproxy" | "direct"): boolean {
    return this.records.some(
      (r) => r.startedAt >= since && (how === "direct" ? r.target === directTarget(replica) : r.target === FRONT_TARGET && r.header === replica),
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#workers].map((w) => w.stop(5_000)));
  }
}

/** Record name of the clients calling `replica` directly. */
export function directTarget(replica: string): string {
  return `${replica} direct`;
}

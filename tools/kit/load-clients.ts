import type { Child } from "./child.ts";
import { type LoadWorkerOptions, type RequestRecord, startLoadWorker } from "../drill/load-worker.ts";

/**
 * Sustained load for outage tests: the drill's keep-alive clients in their own process (so they
 * never share an event loop with the test), closed loop, every finished request recorded. Closed
 * loop because it only makes load here: the drills measure latency with an open loop.
 */
export class LoadClients {
  readonly records: RequestRecord[] = [];
  readonly #listeners = new Set<(record: RequestRecord) => void>();

  readonly child: Child;

  private constructor(options: LoadWorkerOptions) {
    this.child = startLoadWorker("load clients", options, (record) => this.#add(record));
  }

  /** `concurrency` clients sending GET `url` back to back (`thinkMs` apart), each with a client timeout. */
  static start(options: { url: string; concurrency: number; thinkMs?: number; timeoutMs?: number }): LoadClients {
    const { url, concurrency, thinkMs = 0, timeoutMs = 5_000 } = options;
    return new LoadClients({ targets: [{ name: "target", url }], load: { closedLoopClients: concurrency, thinkMs }, timeoutMs });
  }

  /** Resolves with the first recorded request that `match` accepts, waiting for it if need be. */
  waitForRecord(match: (record: RequestRecord) => boolean, timeoutMs: number, what: string): Promise<RequestRecord> {
    const found = this.records.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (record: RequestRecord) => {
        if (!match(record)) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(record);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`load clients: no request ${what} within ${timeoutMs} ms (${this.records.length} so far)`));
      }, timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** Stops the clients and returns every recorded request. */
  async stop(): Promise<RequestRecord[]> {
    await this.child.stop(5_000);
    return this.records;
  }

  #add(record: RequestRecord): void {
    this.records.push(record);
    for (const listener of this.#listeners) listener(record);
  }
}

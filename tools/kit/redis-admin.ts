import { Redis } from "ioredis";

/**
 * Admin connections to the servers of a throwaway Redis topology, one per port, kept for reuse and
 * closed together. No command timeout (an admin command may be slow); a killed server is retried
 * every 200 ms, and its failed commands are what callers see.
 */
export class RedisAdmins {
  readonly #clients = new Map<number, Redis>();

  /** The connection to `127.0.0.1:port`, authenticating with `password` when given. */
  get(port: number, password?: string): Redis {
    const known = this.#clients.get(port);
    if (known) return known;
    const client = new Redis({ host: "127.0.0.1", port, ...(password !== undefined ? { password } : {}), maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    client.on("error", () => {}); // a killed server: callers see the failed commands
    this.#clients.set(port, client);
    return client;
  }

  closeAll(): void {
    for (const client of this.#clients.values()) client.disconnect();
    this.#clients.clear();
  }
}

import { connect, type Socket } from "node:net";

/**
 * One raw HTTP/1.1 client connection over TCP, for what `fetch` hides: several requests in one
 * write (pipelining), and how the server ends the connection (FIN or reset).
 */
export class RawConnection {
  /** Everything received so far, as latin1. */
  received = "";
  /** `closed`: the server ended it cleanly (FIN); `error <code>`: e.g. a reset. */
  ended: "open" | "closed" | `error ${string}` = "open";
  readonly #socket: Socket;
  readonly #waiters = new Set<() => void>();

  constructor(port: number, host = "127.0.0.1") {
    this.#socket = connect(port, host);
    this.#socket.on("data", (chunk: Buffer) => this.#update(() => (this.received += chunk.toString("latin1"))));
    this.#socket.on("error", (error: NodeJS.ErrnoException) => this.#update(() => (this.ended = `error ${error.code}`)));
    this.#socket.on("close", () => this.#update(() => this.ended === "open" && (this.ended = "closed")));
  }

  /** A GET request's bytes, to `send` alone or several in one write. */
  static get(path: string, headers: Record<string, string> = {}): string {
    const lines = Object.entries({ Host: "test", ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
    return `GET ${path} HTTP/1.1\r\n${lines.join("")}\r\n`;
  }

  /**
   * Sends `request` (raw bytes, e.g. `GET /readyz HTTP/1.0\r\n\r\n`) on a new connection and
   * resolves with everything received once the server has closed it (as it does after an HTTP/1.0
   * answer or `Connection: close`).
   */
  static async exchange(port: number, request: string): Promise<{ status: number; body: string; received: string }> {
    const connection = new RawConnection(port);
    try {
      connection.send(request);
      await connection.until((c) => c.ended !== "open");
      const received = connection.received;
      return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0), body: received.slice(received.indexOf("\r\n\r\n") + 4), received };
    } finally {
      connection.destroy();
    }
  }

  /** Writes `requests` in one write. */
  send(...requests: string[]): void {
    this.#socket.write(requests.join(""));
  }

  /** Status lines received so far (found anywhere: an answer follows the previous body directly). */
  statusLines(): string[] {
    return this.received.match(/HTTP\/1\.1 \d{3}/g) ?? [];
  }

  /** Resolves once `predicate` holds, checked on every event; rejects after `timeoutMs`. */
  until(predicate: (c: RawConnection) => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`raw connection: condition not met within ${timeoutMs} ms; ended ${this.ended}, received ${JSON.stringify(this.received.slice(0, 200))}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #update(change: () => unknown): void {
    change();
    for (const check of [...this.#waiters]) check();
  }
}

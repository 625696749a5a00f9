import { createServer, type Server, type Socket } from "node:net";

/**
 * A fake storagesvc for tests: a real HTTP/1.1 server (raw, over node:net, so
 * it can also hang, stall or reset a connection) on a free 127.0.0.1 port
 * (or another loopback address, such as 127.0.0.2 for "another host"),
 * whose behaviour is switched at runtime.
 *
 *   const upstream = await startFakeUpstream();
 *   upstream.status(500);                 // every request from now on
 *   upstream.queue({ kind: "hang" });     // only the next request, then back to the default
 *   await upstream.close();
 *
 * It keeps connections alive (so a client's connection reuse can be observed
 * through `connections`), counts requests in `attempts`, and records the most
 * requests and connections it had open at once.
 */

export const DEFAULT_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
] as const;

export type FakeBehaviour =
  /**
   * 200 application/json with `books` (default: the article's two books) and, like storagesvc, a
   * `Link` to the next page when they fill the `limit` asked for; `link` sends that `Link`
   * instead (a page storagesvc's byte budget ended early), `null` none.
   */
  | { kind: "ok"; books?: unknown; link?: string | null }
  /** Any status with a body (default `{"error":"..."}`) and extra headers. */
  | { kind: "status"; code: number; body?: string; headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { kind: "hang" }
  /** 200 application/json whose body is not JSON. */
  | { kind: "garbage" }
  /** 200 text/html (an error page from a proxy). */
  | { kind: "html200" }
  /**
   * 200 application/json, a valid (empty, whitespace-padded) list of `bytes`
   * bytes; with `declareLength: false` sent chunked, without Content-Length.
   */
  | { kind: "huge"; bytes: number; declareLength?: boolean }
  /**
   * 200 application/json with `Content-Encoding: encoding` and `body` sent as it is (already
   * encoded, e.g. a gzip bomb), with its Content-Length unless `declareLength: false` (chunked).
   */
  | { kind: "encoded"; encoding: string; body: Uint8Array; declareLength?: boolean }
  /** Headers and part of the body, then a TCP reset. */
  | { kind: "resetMidBody" }
  /** Headers and part of the body, then nothing more (the connection stays open). */
  | { kind: "stallMidBody" }
  /** Closes the connection as soon as the request arrives, without answering. */
  | { kind: "closeImmediately" };

export interface RecordedRequest {
  method: string;
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Which connection (1-based, in accept order) carried it. */
  connection: number;
}

export interface FakeUpstream {
  /** `http://<host>:<port>/books` */
  readonly url: string;
  readonly port: number;
  /** Requests received so far. */
  readonly attempts: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections currently open. */
  readonly openConnections: number;
  /** The most connections open at the same time so far. */
  readonly maxOpenConnections: number;
  /** The most requests in progress (received, answer not yet written) at the same time so far. */
  readonly maxConcurrentRequests: number;
  /** Connections the client closed (or reset) while the fake was still sending a body. */
  readonly abortedBodies: number;
  /** Body bytes written by the last `huge` answer before it finished or the client went away. */
  readonly hugeBytesSent: number;
  /** The last request's headers (lower-case names), or undefined before the first one. */
  readonly lastHeaders: Record<string, string> | undefined;
  readonly requests: readonly RecordedRequest[];

  ok(books?: unknown): void;
  status(code: number, body?: string, headers?: Record<string, string>): void;
  hang(): void;
  garbage(): void;
  html200(): void;
  huge(bytes: number, options?: { declareLength?: boolean }): void;
  encoded(encoding: string, body: Uint8Array, options?: { declareLength?: boolean }): void;
  resetMidBody(): void;
  stallMidBody(): void;
  closeImmediately(): void;
  /**
   * Answers requests whose path (with its query, e.g. `/books?limit=10&after=5`) is `path` with
   * `behaviour` from now on, whatever the default and the queue say; `undefined` ends it.
   */
  forPath(path: string, behaviour: FakeBehaviour | undefined): void;
  /** Waits `ms` before every answer (on top of the behaviour). 0 turns it off. */
  delay(ms: number): void;
  /**
   * Holds every answer from now on until the returned function is called (also ended by
   * `close`): a request stays in flight for exactly as long as a test needs, not for a guessed time.
   */
  hold(): () => void;
  /** One-shot behaviours used, in order, by the next requests before the default resumes. */
  queue(...behaviours: FakeBehaviour[]): void;
  /** Resolves once `n` requests have arrived in total. */
  waitForAttempts(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every connection (hung ones included). */
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

interface ConnectionState {
  id: number;
  socket: Socket;
  buffer: Buffer;
  busy: boolean;
  closed: boolean;
  /** Set after an answer that leaves the connection unusable (hang, reset, close). */
  stopped: boolean;
}

export interface FakeUpstreamOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
}

export async function startFakeUpstream({ host = "127.0.0.1" }: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  let defaultBehaviour: FakeBehaviour = { kind: "ok" };
  const pending: FakeBehaviour[] = [];
  const byPath = new Map<string, FakeBehaviour>();
  let delayMs = 0;
  /** While set, answers wait for it (see `hold`). */
  let held: { released: Promise<void>; release: () => void } | undefined;
  let attempts = 0;
  let connectionCount = 0;
  let maxOpenConnections = 0;
  let requestsInProgress = 0;
  let maxConcurrentRequests = 0;
  let abortedBodies = 0;
  let hugeBytesSent = 0;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const attemptWaiters = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server: Server = createServer((socket) => {
    const state: ConnectionState = { id: ++connectionCount, socket, buffer: Buffer.alloc(0), busy: false, closed: false, stopped: false };
    sockets.add(socket);
    maxOpenConnections = Math.max(maxOpenConnections, sockets.size);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      state.buffer = Buffer.concat([state.buffer, chunk]);
      void pump(state); // pump handles its own errors; nothing to await in an event handler
    });
    socket.on("error", () => {
      // A client reset is an expected event here; `close` follows and does the bookkeeping.
    });
    socket.on("close", () => {
      state.closed = true;
      sockets.delete(socket);
    });
  });

  async function pump(state: ConnectionState): Promise<void> {
    if (state.busy) return;
    state.busy = true;
    try {
      for (;;) {
        const end = state.buffer.indexOf("\r\n\r\n");
        if (end < 0 || state.closed || state.stopped) return;
        const head = state.buffer.subarray(0, end).toString("latin1");
        const [requestLine = "", ...headerLines] = head.split("\r\n");
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(":");
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const bodyLength = Number(headers["content-length"] ?? 0) || 0;
        if (state.buffer.length < end + 4 + bodyLength) return;
        state.buffer = state.buffer.subarray(end + 4 + bodyLength);
        const [method = "", path = ""] = requestLine.split(" ");
        attempts += 1;
        requests.push({ method, path, headers, connection: state.id });
        for (const wake of attemptWaiters) wake();
        const behaviour = byPath.get(path) ?? pending.shift() ?? defaultBehaviour;
        requestsInProgress += 1;
        maxConcurrentRequests = Math.max(maxConcurrentRequests, requestsInProgress);
        let keepGoing: boolean;
        try {
          if (delayMs > 0) await sleep(delayMs);
          if (held !== undefined) await held.released;
          if (state.closed) return;
          keepGoing = await answer(state, behaviour, path, headers["connection"]?.toLowerCase() === "close");
        } finally {
          requestsInProgress -= 1;
        }
        if (!keepGoing) {
          state.stopped = true;
          return;
        }
      }
    } catch {
      // Writing to a connection the client already closed: nothing left to do for it.
      state.socket.destroy();
    } finally {
      state.busy = false;
    }
  }

  function writeHead(socket: Socket, code: number, headers: Record<string, string>): void {
    let head = `HTTP/1.1 ${code} ${REASONS[code] ?? "Status"}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    socket.write(`${head}\r\n`);
  }

  function sendSimple(state: ConnectionState, code: number, contentType: string, body: string, extra: Record<string, string> = {}, close = false): boolean {
    const bytes = Buffer.from(body);
    writeHead(state.socket, code, {
      "Content-Type": contentType,
      "Content-Length": String(bytes.length),
      Connection: close ? "close" : "keep-alive",
      ...extra,
    });
    state.socket.write(bytes);
    if (close) state.socket.end();
    return !close;
  }

  /** Writes `data`, waiting for drain; false when the connection went away first. */
  async function write(state: ConnectionState, data: string | Buffer): Promise<boolean> {
    if (state.closed || state.socket.destroyed) return false;
    if (state.socket.write(data)) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        state.socket.off("drain", onDrain);
        state.socket.off("close", onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      state.socket.on("drain", onDrain);
      state.socket.on("close", onClose);
    });
  }

  /** Answers one request; returns whether the connection may carry another one. */
  async function answer(state: ConnectionState, behaviour: FakeBehaviour, path: string, clientWantsClose: boolean): Promise<boolean> {
    switch (behaviour.kind) {
      case "ok": {
        const books = behaviour.books ?? DEFAULT_BOOKS;
        const link = behaviour.link === undefined ? storagesvcLink(path, books) : behaviour.link;
        return sendSimple(state, 200, "application/json", JSON.stringify(books), link === null ? {} : { Link: link }, clientWantsClose);
      }
      case "status":
        return sendSimple(
          state,
          behaviour.code,
          "application/json",
          behaviour.body ?? JSON.stringify({ error: "fake upstream failure" }),
          behaviour.headers,
          clientWantsClose,
        );
      case "garbage":
        return sendSimple(state, 200, "application/json", '{"not": "a book list", [', {}, clientWantsClose);
      case "html200":
        return sendSimple(state, 200, "text/html; charset=utf-8", "<html><body><h1>Bad gateway</h1></body></html>", {}, clientWantsClose);
      case "hang":
      case "stallMidBody":
        if (behaviour.kind === "stallMidBody") {
          writeHead(state.socket, 200, { "Content-Type": "application/json", "Content-Length": "1000", Connection: "keep-alive" });
          state.socket.write('[{"id":1,"title":"One');
        }
        return false; // never answers; the socket is destroyed by close()
      case "closeImmediately":
        state.socket.destroy();
        return false;
      case "resetMidBody":
        writeHead(state.socket, 200, { "Content-Type": "application/json", "Content-Length": "1000", Connection: "keep-alive" });
        state.socket.write('[{"id":1,"title":"One book","author":"John');
        await sleep(20);
        state.socket.resetAndDestroy();
        return false;
      case "huge":
        return sendHuge(state, behaviour.bytes, behaviour.declareLength ?? true);
      case "encoded": {
        const declareLength = behaviour.declareLength ?? true;
        writeHead(state.socket, 200, {
          "Content-Type": "application/json",
          "Content-Encoding": behaviour.encoding,
          ...(declareLength ? { "Content-Length": String(behaviour.body.byteLength) } : { "Transfer-Encoding": "chunked" }),
          Connection: "keep-alive",
        });
        const body = Buffer.from(behaviour.body.buffer, behaviour.body.byteOffset, behaviour.body.byteLength);
        const framed = declareLength ? body : Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
        return write(state, framed);
      }
    }
  }

  async function sendHuge(state: ConnectionState, bytes: number, declareLength: boolean): Promise<boolean> {
    hugeBytesSent = 0;
    const size = Math.max(2, bytes);
    writeHead(state.socket, 200, {
      "Content-Type": "application/json",
      ...(declareLength ? { "Content-Length": String(size) } : { "Transfer-Encoding": "chunked" }),
      Connection: "keep-alive",
    });
    const padding = Buffer.alloc(64 * 1024, 0x20);
    let remaining = size;
    while (remaining > 0) {
      let piece: Buffer;
      if (remaining === size) piece = Buffer.from("[");
      else if (remaining === 1) piece = Buffer.from("]");
      else piece = padding.subarray(0, Math.min(padding.length, remaining - 1));
      const framed = declareLength ? piece : Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
      if (!(await write(state, framed))) {
        abortedBodies += 1;
        return false;
      }
      hugeBytesSent += piece.length;
      remaining -= piece.length;
    }
    if (!declareLength && !(await write(state, "0\r\n\r\n"))) return false;
    return true;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("fake upstream has no address");
  const port = address.port;

  const setDefault = (behaviour: FakeBehaviour) => {
    defaultBehaviour = behaviour;
  };

  return {
    url: `http://${host}:${port}/books`,
    port,
    get attempts() {
      return attempts;
    },
    get connections() {
      return connectionCount;
    },
    get openConnections() {
      return sockets.size;
    },
    get maxOpenConnections() {
      return maxOpenConnections;
    },
    get maxConcurrentRequests() {
      return maxConcurrentRequests;
    },
    get abortedBodies() {
      return abortedBodies;
    },
    get hugeBytesSent() {
      return hugeBytesSent;
    },
    get lastHeaders() {
      return requests.at(-1)?.headers;
    },
    requests,
    ok: (books) => setDefault(books === undefined ? { kind: "ok" } : { kind: "ok", books }),
    status: (code, body, headers) =>
      setDefault({ kind: "status", code, ...(body === undefined ? {} : { body }), ...(headers === undefined ? {} : { headers }) }),
    hang: () => setDefault({ kind: "hang" }),
    garbage: () => setDefault({ kind: "garbage" }),
    html200: () => setDefault({ kind: "html200" }),
    huge: (bytes, options = {}) => setDefault({ kind: "huge", bytes, ...options }),
    encoded: (encoding, body, options = {}) => setDefault({ kind: "encoded", encoding, body, ...options }),
    resetMidBody: () => setDefault({ kind: "resetMidBody" }),
    stallMidBody: () => setDefault({ kind: "stallMidBody" }),
    closeImmediately: () => setDefault({ kind: "closeImmediately" }),
    forPath: (path, behaviour) => {
      if (behaviour === undefined) byPath.delete(path);
      else byPath.set(path, behaviour);
    },
    delay: (ms) => {
      delayMs = ms;
    },
    hold: () => {
      let release = (): void => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      const gate = { released, release };
      held = gate;
      return () => {
        if (held === gate) held = undefined;
        gate.release();
      };
    },
    queue: (...behaviours) => {
      pending.push(...behaviours);
    },
    waitForAttempts(n, timeoutMs = 5000) {
      if (attempts >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          attemptWaiters.delete(check);
          reject(new Error(`fake upstream saw ${attempts} attempts, expected ${n} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (attempts < n) return;
          clearTimeout(timer);
          attemptWaiters.delete(check);
          resolve();
        };
        attemptWaiters.add(check);
      });
    },
    async close() {
      held?.release();
      held = undefined;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };
}

/** storagesvc's `Link` for `books` answered to `path`: a page that fills its `limit` links onward. */
function storagesvcLink(path: string, books: unknown): string | null {
  const limit = Number(new URL(path, "http://fake.invalid/").searchParams.get("limit") ?? 100);
  if (!Array.isArray(books) || books.length === 0 || books.length !== limit) return null;
  const last: unknown = books.at(-1);
  const id = typeof last === "object" && last !== null && "id" in last ? last.id : undefined;
  return typeof id === "number" ? `</books?limit=${limit}&after=${id}>; rel="next"` : null;
}

import net from "node:net";

/**
 * What the proxy does to traffic right now.
 * - `pass`: forwards bytes both ways untouched.
 * - `cut`: closes every open connection (FIN) and stops listening, so new connections are refused
 *   (ECONNREFUSED), exactly like a stopped server: the dependency is "down". Refusing matters:
 *   accepting and then closing or resetting makes postgres.js queue queries behind its reconnect
 *   backoff (seconds) instead of failing them at once.
 * - `reset`: like `cut`, but open connections get a TCP RST (ECONNRESET on the other side).
 * - `delay`: forwards, but holds every chunk coming back from the target `ms` milliseconds, so each
 *   request/response exchange takes `ms` longer: the dependency is "slow".
 */
export type FaultMode =
  | { readonly kind: "pass" }
  | { readonly kind: "cut" }
  | { readonly kind: "reset" }
  | { readonly kind: "delay"; readonly ms: number };

export interface FaultProxyOptions {
  /** Where the traffic goes. */
  readonly target: { readonly host: string; readonly port: number };
  /** Listen address; default `127.0.0.1`. */
  readonly host?: string;
  /** Listen port; default `0` (a free port). */
  readonly port?: number;
  /** Initial mode; default `pass`. */
  readonly mode?: FaultMode;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  mode(): FaultMode;
  /**
   * Switches mode. Open connections are cut at once; the promise resolves when the listener is
   * in the new state (listening again after a cut, which retries for a while if the port is busy).
   */
  setMode(mode: FaultMode): Promise<void>;
  pass(): Promise<void>;
  cut(): Promise<void>;
  reset(): Promise<void>;
  delay(ms: number): Promise<void>;
  /** Connections accepted and not yet closed. */
  openConnections(): number;
  /** Resolves once no connection is open (at once when none is). */
  untilIdle(): Promise<void>;
  /** Stops listening and destroys every connection and pending timer. */
  close(): Promise<void>;
}

/** How long a listen after a cut keeps retrying a port that is momentarily in use. */
const LISTEN_RETRY_MS = 5_000;

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  readonly timers: Set<ReturnType<typeof setTimeout>>;
  /** When the last delayed chunk towards the client is released; keeps chunks in order. */
  releaseAt: number;
  pendingToClient: number;
  upstreamEnded: boolean;
}

/** Starts a TCP proxy in front of `target` whose behaviour can be switched at runtime. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const listenHost = options.host ?? "127.0.0.1";
  let current: FaultMode = options.mode ?? { kind: "pass" };
  let closed = false;
  const pairs = new Set<Pair>();
  const idleWaiters = new Set<() => void>();
  let server: net.Server | undefined;
  let port = options.port ?? 0;
  // Mode changes run one after the other, so listen/close never interleave.
  let transition: Promise<void> = Promise.resolve();

  const refuses = (mode: FaultMode) => mode.kind === "cut" || mode.kind === "reset";

  function onConnection(client: net.Socket): void {
    client.on("error", () => {
      // A client error ends its pair through the `close` event; nothing to report.
    });
    if (closed || refuses(current)) {
      // Accepted just before the listener closed.
      client.resetAndDestroy();
      return;
    }
    connectPair(client);
  }

  async function listen(): Promise<void> {
    const deadline = Date.now() + LISTEN_RETRY_MS;
    for (;;) {
      const candidate = net.createServer({ allowHalfOpen: true }, onConnection);
      try {
        await new Promise<void>((resolve, reject) => {
          candidate.once("error", reject);
          candidate.listen(port, listenHost, () => {
            candidate.off("error", reject);
            resolve();
          });
        });
      } catch (error) {
        // After a cut, the port can be briefly taken (an outgoing connection's ephemeral port).
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" && port !== 0 && Date.now() < deadline) {
          await Bun.sleep(50);
          continue;
        }
        throw new Error(`fault proxy cannot listen on ${listenHost}:${port}`, { cause: error });
      }
      candidate.on("error", () => {
        // After listening, server errors only concern single accepts; connections handle their own.
      });
      server = candidate;
      port = (candidate.address() as net.AddressInfo).port;
      return;
    }
  }

  async function unlisten(): Promise<void> {
    const listening = server;
    server = undefined;
    if (listening) await new Promise<void>((resolve) => listening.close(() => resolve()));
  }

  function connectPair(client: net.Socket): void {
    const upstream = net.connect({
      host: options.target.host,
      port: options.target.port,
      allowHalfOpen: true,
    });
    const pair: Pair = {
      client,
      upstream,
      timers: new Set(),
      releaseAt: 0,
      pendingToClient: 0,
      upstreamEnded: false,
    };
    pairs.add(pair);
    upstream.setNoDelay(true);
    client.setNoDelay(true);

    upstream.on("error", () => {
      // Target unreachable or gone: the `close` handler tears the pair down.
    });
    const teardown = () => destroyPair(pair, "destroy");
    client.on("close", teardown);
    upstream.on("close", teardown);

    // Client → target: never delayed, with backpressure.
    client.on("data", (chunk: Buffer) => {
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once("drain", () => client.resume());
      }
    });
    client.on("end", () => upstream.end());

    // Target → client: delayed when the mode says so, always in order.
    upstream.on("data", (chunk: Buffer) => {
      const holdMs = current.kind === "delay" ? current.ms : 0;
      if (holdMs <= 0 && pair.pendingToClient === 0) {
        if (!client.write(chunk)) {
          upstream.pause();
          client.once("drain", () => upstream.resume());
        }
        return;
      }
      const now = Date.now();
      pair.releaseAt = Math.max(now + holdMs, pair.releaseAt);
      pair.pendingToClient++;
      const timer = setTimeout(() => {
        pair.timers.delete(timer);
        pair.pendingToClient--;
        if (!client.destroyed) client.write(chunk);
        if (pair.pendingToClient === 0 && pair.upstreamEnded) client.end();
      }, pair.releaseAt - now);
      pair.timers.add(timer);
    });
    upstream.on("end", () => {
      pair.upstreamEnded = true;
      if (pair.pendingToClient === 0) client.end();
    });
  }

  function destroyPair(pair: Pair, how: "destroy" | "reset"): void {
    if (!pairs.delete(pair)) return;
    if (pairs.size === 0) {
      for (const wake of idleWaiters) wake();
      idleWaiters.clear();
    }
    for (const timer of pair.timers) clearTimeout(timer);
    pair.timers.clear();
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      // resetAndDestroy needs a connected socket; an upstream still connecting is just destroyed.
      if (how === "reset" && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  if (!refuses(current)) await listen();
  else {
    // Starting "down" still reserves a port: listen once to learn it, then refuse.
    await listen();
    await unlisten();
  }

  function setMode(mode: FaultMode): Promise<void> {
    if (mode.kind === "delay" && !(Number.isFinite(mode.ms) && mode.ms >= 0)) {
      return Promise.reject(new RangeError(`fault proxy delay must be a non-negative number of ms, got ${mode.ms}`));
    }
    if (closed) return Promise.reject(new Error("fault proxy is closed"));
    current = mode;
    if (refuses(mode)) {
      for (const pair of [...pairs]) destroyPair(pair, mode.kind === "reset" ? "reset" : "destroy");
    }
    transition = transition
      .catch(() => {
        // The previous transition's caller got its error; this one starts afresh.
      })
      .then(async () => {
        if (closed) return;
        if (refuses(current)) await unlisten();
        else if (!server) await listen();
      });
    return transition;
  }

  return {
    host: listenHost,
    get port() {
      return port;
    },
    mode: () => current,
    setMode,
    pass: () => setMode({ kind: "pass" }),
    cut: () => setMode({ kind: "cut" }),
    reset: () => setMode({ kind: "reset" }),
    delay: (ms: number) => setMode({ kind: "delay", ms }),
    openConnections: () => pairs.size,
    untilIdle: () => (pairs.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.add(resolve))),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const pair of [...pairs]) destroyPair(pair, "destroy");
      await transition.catch(() => {
        // Closing anyway.
      });
      await unlisten();
    },
  };
}

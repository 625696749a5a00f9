import net from "node:net";

/**
 * What the proxy does to traffic right now.
 * - `pass`: forwards bytes both ways untouched.
 * - `cut`: closes every open connection (FIN) and resets each new one as soon as it is accepted,
 *   so clients fail fast instead of hanging: the dependency is "down".
 * - `reset`: like `cut`, but open connections get a TCP RST too (ECONNRESET on the other side).
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
  setMode(mode: FaultMode): void;
  pass(): void;
  cut(): void;
  reset(): void;
  delay(ms: number): void;
  /** Connections accepted and not yet closed. */
  openConnections(): number;
  /** Stops listening and destroys every connection and pending timer. */
  close(): Promise<void>;
}

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
  // Sockets accepted during cut/reset, until they are fully closed.
  const rejected = new Set<net.Socket>();

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.on("error", () => {
      // A client error ends its pair through the `close` event; nothing to report.
    });
    if (closed || current.kind === "cut" || current.kind === "reset") {
      // Refuse with a RST: a FIN right after accept makes some clients (postgres.js while
      // connecting) reconnect forever, whereas a reset fails them at once, like ECONNREFUSED.
      rejected.add(client);
      client.on("close", () => rejected.delete(client));
      client.resetAndDestroy();
      return;
    }
    connectPair(client);
  });

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
    for (const timer of pair.timers) clearTimeout(timer);
    pair.timers.clear();
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      // resetAndDestroy needs a connected socket; an upstream still connecting is just destroyed.
      if (how === "reset" && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, listenHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {
    // After listening, server errors only concern single accepts; connections handle their own.
  });
  const address = server.address() as net.AddressInfo;

  function setMode(mode: FaultMode): void {
    if (mode.kind === "delay" && !(Number.isFinite(mode.ms) && mode.ms >= 0)) {
      throw new RangeError(`fault proxy delay must be a non-negative number of ms, got ${mode.ms}`);
    }
    current = mode;
    if (mode.kind === "cut" || mode.kind === "reset") {
      for (const pair of [...pairs]) destroyPair(pair, mode.kind === "reset" ? "reset" : "destroy");
    }
  }

  return {
    host: listenHost,
    port: address.port,
    mode: () => current,
    setMode,
    pass: () => setMode({ kind: "pass" }),
    cut: () => setMode({ kind: "cut" }),
    reset: () => setMode({ kind: "reset" }),
    delay: (ms: number) => setMode({ kind: "delay", ms }),
    openConnections: () => pairs.size + rejected.size,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const pair of [...pairs]) destroyPair(pair, "destroy");
      for (const socket of rejected) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

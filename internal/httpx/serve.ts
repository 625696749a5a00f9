import type { Logger } from "../logging/logger.ts";
import type { Readiness } from "./readiness.ts";
import { DEFAULT_GRACE_MS } from "../config/env.ts";
import { type FetchHandler, withOriginFormUrls } from "./origin-form-url.ts";

export interface StartServerOptions {
  /** What answers each request: a Hono app's `fetch`, or booksvc's shedding in front of it. */
  fetch: FetchHandler;
  port: number;
  hostname?: string;
  logger: Logger;
  /** Turned to draining by `stop`; the app's request middleware adds `Connection: close` from then on. */
  readiness: Readiness;
  /**
   * Bun closes a request (and an idle keep-alive connection) after this many seconds; its own
   * default of 10 s would cut a request that is allowed to take longer, after which the client
   * may silently send it again. At most 255.
   */
  idleTimeoutS?: number;
  /** Waits out the shutdown delay; injected by tests. Default `Bun.sleep`. */
  sleep?: (ms: number) => Promise<void>;
}

export interface StopOptions {
  /** SHUTDOWN_DELAY_MS: how long to keep answering, readiness 503, before no longer accepting. */
  delayMs?: number;
  /** How long in-flight requests get once accepting stopped; whatever still runs is then closed. */
  graceMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  /**
   * Graceful stop. At once: readiness 503, and every answer carries `Connection: close`, so
   * keep-alive clients leave for another replica. For `delayMs`: still answering, while load
   * balancers notice. Then: no new connections, idle keep-alive connections closed, in-flight
   * requests get up to `graceMs` to finish (each closes its connection when answered).
   */
  stop(options?: StopOptions): Promise<void>;
}


export function startServer({
  fetch: handler,
  port,
  hostname = "0.0.0.0",
  logger,
  readiness,
  idleTimeoutS = 10,
  sleep = Bun.sleep,
}: StartServerOptions): RunningServer {
  // The origin only completes a Host-less request's URL for routing; nothing builds links from it.
  const fetch = withOriginFormUrls(handler, "http://localhost");
  const server = Bun.serve({ fetch, port, hostname, idleTimeout: idleTimeoutS });
  const boundPort = server.port ?? port;
  logger.info({ port: boundPort }, "listening");
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}`,
    async stop({ delayMs = 0, graceMs = DEFAULT_GRACE_MS } = {}) {
      readiness.startDraining();
      if (delayMs > 0) {
        logger.info({ delay_ms: delayMs }, "draining: readiness 503, still answering");
        await sleep(delayMs);
      }
      // Bun's graceful stop: the listener closes, idle keep-alive connections are closed at once,
      // a connection with a request in flight closes once its answer is sent.
      logger.info({ grace_ms: graceMs }, "no longer accepting connections; finishing requests in flight");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      try {
        const outcome = await Promise.race([server.stop(false).then(() => "drained" as const), graceOver]);
        if (outcome === "timeout") {
          logger.warn({ grace_ms: graceMs }, "in-flight requests still running at the end of the grace period; closing them");
          await server.stop(true);
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

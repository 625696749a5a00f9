import type { Hono } from "hono";
import type { Logger } from "../logging/logger.ts";
import type { Readiness } from "./readiness.ts";

export interface StartServerOptions {
  // biome-ignore lint: any Hono app, whatever its env type
  app: Hono<any>;
  port: number;
  hostname?: string;
  logger: Logger;
  readiness: Readiness;
  /**
   * Bun closes a request (and an idle keep-alive connection) after this many seconds; its own
   * default of 10 s would cut a request that is allowed to take longer, after which the client
   * may silently send it again. At most 255.
   */
  idleTimeoutS?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  /**
   * Graceful stop: readiness turns 503, no new connections, in-flight requests get up to
   * `graceMs` to finish, then whatever is left is closed.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_GRACE_MS = 10_000;

export function startServer({ app, port, hostname = "0.0.0.0", logger, readiness, idleTimeoutS = 10 }: StartServerOptions): RunningServer {
  const server = Bun.serve({ fetch: app.fetch, port, hostname, idleTimeout: idleTimeoutS });
  const boundPort = server.port ?? port;
  logger.info({ port: boundPort }, "listening");
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}`,
    async stop(graceMs = DEFAULT_GRACE_MS) {
      readiness.startDraining();
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

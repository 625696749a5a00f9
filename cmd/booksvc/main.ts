import { describeListen } from "../../internal/config/env.ts";
import { startServer } from "../../internal/httpx/index.ts";
import type { Logger } from "../../internal/logging/logger.ts";
import { runMain } from "../../internal/process/run-main.ts";
import { untilAborted } from "../../internal/resilience/index.ts";
import { type BooksvcConfig, buildBooksvc, readBooksvcConfig } from "../../internal/booksvc/index.ts";

/** booksvc: the books from storagesvc, kept answering by the chosen strategy. Serves until `signal` aborts. */
export async function run(config: BooksvcConfig, { logger }: { logger: Logger }, signal: AbortSignal): Promise<void> {
  const booksvc = buildBooksvc(config, { logger });
  let server: ReturnType<typeof startServer>;
  try {
    server = startServer({
      fetch: booksvc.fetch,
      port: config.HTTP_PORT.port,
      hostname: config.HTTP_PORT.hostname,
      logger,
      readiness: booksvc.readiness,
      // Longer than any request may take, so Bun never cuts one that is still within its deadline.
      idleTimeoutS: Math.ceil(config.REQUEST_TIMEOUT_MS / 1000) + 5,
    });
  } catch (error) {
    await booksvc.close();
    throw new Error(`cannot listen on ${describeListen(config.HTTP_PORT)}`, { cause: error });
  }

  await untilAborted(signal);
  await server.stop({ delayMs: config.SHUTDOWN_DELAY_MS });
  await booksvc.close();
}

if (import.meta.main) {
  await runMain({ app: "booksvc", readConfig: readBooksvcConfig, run });
}

import { describeListen } from "../../internal/config/env.ts";
import { collectDefaultMetrics, Registry } from "prom-client";
import { Readiness, startServer } from "../../internal/httpx/index.ts";
import type { Logger } from "../../internal/logging/logger.ts";
import { redactUrl } from "../../internal/logging/redact.ts";
import { runMain } from "../../internal/process/run-main.ts";
import { untilAborted } from "../../internal/resilience/index.ts";
import { createTracer } from "../../internal/tracing/index.ts";
import {
  connectDatabase,
  createBooksRepository,
  createStoragesvcApp,
  databaseReadiness,
  readStoragesvcConfig,
  readyBooks,
  SchemaKeeper,
  type StoragesvcConfig,
} from "../../internal/storagesvc/index.ts";

/** storagesvc: the books from PostgreSQL over HTTP. Serves until `signal` aborts, then stops gracefully. */
export async function run(config: StoragesvcConfig, { logger }: { logger: Logger }, signal: AbortSignal): Promise<void> {
  logger.info({ database_url: redactUrl(config.DATABASE_URL), pool_max: config.DB_POOL_MAX }, "using database");
  const sql = connectDatabase({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX });
  const repository = createBooksRepository(sql);
  const schema = new SchemaKeeper({ repository, logger });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const readiness = new Readiness(databaseReadiness(repository, schema));
  const tracer = createTracer(config.OTEL_EXPORTER_OTLP_ENDPOINT, "storagesvc");
  const app = createStoragesvcApp({ books: readyBooks(repository, schema), logger, registry, readiness, tracer });

  let server: ReturnType<typeof startServer>;
  try {
    server = startServer({ app, port: config.HTTP_PORT.port, hostname: config.HTTP_PORT.hostname, logger, readiness });
  } catch (error) {
    await sql.end({ timeout: 1 });
    await tracer.shutdown();
    throw new Error(`cannot listen on ${describeListen(config.HTTP_PORT)}`, { cause: error });
  }
  // Runs until `signal` aborts; never rejects (database failures are retried and logged).
  const schemaReady = schema.run(signal);

  await untilAborted(signal);
  await server.stop({ delayMs: config.SHUTDOWN_DELAY_MS });
  await schemaReady;
  await sql.end({ timeout: 5 });
  await tracer.shutdown();
}

if (import.meta.main) {
  await runMain({ app: "storagesvc", readConfig: readStoragesvcConfig, run });
}

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
  migrateOnFreshConnection,
  readStoragesvcConfig,
  readyBooks,
  SchemaKeeper,
  type StoragesvcConfig,
} from "../../internal/storagesvc/index.ts";

/** storagesvc: the books from PostgreSQL over HTTP. Serves until `signal` aborts, then stops gracefully. */
export async function run(config: StoragesvcConfig, { logger }: { logger: Logger }, signal: AbortSignal): Promise<void> {
  logger.info({ database_url: redactUrl(config.DATABASE_URL), pool_max: config.DB_POOL_MAX, db_migrate: config.DB_MIGRATE }, "using database");
  const sql = connectDatabase({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX });
  const repository = createBooksRepository(sql, { pageMaxBytes: config.PAGE_MAX_BYTES });
  // DB_MIGRATE=off: no DDL ever; the books query alone says whether the table is there.
  const schema =
    config.DB_MIGRATE === "auto"
      ? new SchemaKeeper({ migrate: () => migrateOnFreshConnection(() => migrationConnection(config)), logger })
      : { ready: true, run: async () => {} };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const books = readyBooks(repository, schema);
  const readiness = new Readiness(databaseReadiness(books));
  const tracer = createTracer(config.OTEL_EXPORTER_OTLP_ENDPOINT, "storagesvc");
  const app = createStoragesvcApp({ books, logger, registry, readiness, tracer });

  let server: ReturnType<typeof startServer>;
  try {
    server = startServer({ fetch: app.fetch, port: config.HTTP_PORT.port, hostname: config.HTTP_PORT.hostname, logger, readiness });
  } catch (error) {
    await sql.end({ timeout: 1 });
    await tracer.shutdown();
    throw new Error(`cannot listen on ${describeListen(config.HTTP_PORT)}`, { cause: error });
  }
  // Runs until the table is found or created, or `signal` aborts; never rejects.
  const schemaReady = schema.run(signal);

  await untilAborted(signal);
  await server.stop({ delayMs: config.SHUTDOWN_DELAY_MS });
  await schemaReady;
  await sql.end({ timeout: 5 });
  await tracer.shutdown();
}

/** `storagesvc migrate`: the migration once (whatever DB_MIGRATE says), for a Job or an init step. */
export async function migrate(config: StoragesvcConfig, { logger }: { logger: Logger }): Promise<void> {
  const outcome = await migrateOnFreshConnection(() => migrationConnection(config));
  if (outcome === "standby") {
    throw new Error("the database is a standby (pg_is_in_recovery()) and has no books table: run the migration against the primary");
  }
  logger.info({ table: outcome }, outcome === "created" ? "books table created with the article's two books" : "books table already exists; left as it is");
}

/** A one-connection pool for one migration attempt. */
function migrationConnection(config: StoragesvcConfig) {
  return connectDatabase({ url: config.DATABASE_URL, poolMax: 1 });
}

if (import.meta.main) {
  await runMain({ app: "storagesvc", readConfig: readStoragesvcConfig, run, commands: { migrate } });
}

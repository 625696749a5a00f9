import postgres, { type Sql } from "postgres";

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  /** Seconds to wait for a new connection; small, so an unreachable database fails fast. */
  connectTimeoutS?: number;
  /** Seconds an unused pooled connection is kept before closing. */
  idleTimeoutS?: number;
}

/**
 * The postgres.js pool. Nothing connects here: postgres.js opens connections lazily, per query,
 * and opens a new one when a previous one was closed, so the service recovers by itself when the
 * database comes back; no reconnect logic of our own.
 */
export function connectDatabase({ url, poolMax, connectTimeoutS = 2, idleTimeoutS = 30 }: DatabaseOptions): Sql {
  return postgres(url, {
    max: poolMax,
    connect_timeout: connectTimeoutS,
    idle_timeout: idleTimeoutS,
    // `create table if not exists` on an existing table sends a NOTICE; it is not worth a log line.
    onnotice: () => {},
    // We use no array types, so skip postgres.js's pg_type lookup on every new connection.
    fetch_types: false,
    connection: { application_name: "storagesvc" },
  });
}

import postgres, { type Sql } from "postgres";

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  /**
   * Seconds to wait for a new connection; small, so an unreachable database fails fast. With the
   * 0.1 s reconnect wait it also bounds recovery: an attempt that hangs (say, its SYN was lost while
   * the database was away) is given up and retried within 2.1 s, inside the contract's 3 s.
   */
  connectTimeoutS?: number;
  /** Seconds an unused pooled connection is kept before closing. */
  idleTimeoutS?: number;
}

/**
 * The postgres.js pool on `url`, which may name several hosts
 * (`postgres://u@h1:5432,h2:5432/db?target_session_attrs=primary`): postgres.js parses the list
 * itself and, for each new connection, tries the hosts in turn until one has the attributes asked
 * for. Use `primary` there, not `read-write`: postgres.js 3.4.9 judges `read-write` by
 * `default_transaction_read_only` alone, which is off on a hot standby, so it can keep a standby.
 * The URL's query options reach postgres.js as they are (`prepare=false` behind PgBouncer's
 * transaction pooling before 1.21): an option set in the object below would override the URL's,
 * so only what the URL should never decide is set here. While no host is a primary, postgres.js
 * keeps a query waiting and never fails it: the time limit of each request (ready-books.ts)
 * is what turns that into a prompt 503.
 *
 * Nothing connects here: postgres.js opens connections lazily, per query,
 * and opens a new one when a previous one was closed, so the service recovers by itself when the
 * database comes back; no reconnect logic of our own. On Bun that recovery relies on our patch to
 * postgres.js 3.4.9 (patches/postgres@3.4.9.patch): unpatched, a connection closed while a write was
 * pending left its buffer behind and the new connection's startup message was never sent.
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
    // postgres.js waits longer after each failed connect (up to 20 s) and queues queries behind
    // that wait: with the database down, /books hung instead of answering 503, and recovery took
    // seconds. A short fixed wait keeps failures fast and recovery prompt.
    backoff: () => 0.1,
    connection: { application_name: "storagesvc" },
  });
}

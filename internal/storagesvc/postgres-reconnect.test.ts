import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import net from "node:net";
import postgres, { type Sql } from "postgres";
import {
  adminShutdown,
  dataRow,
  FakePostgresServer,
  rowDescription,
  rowsAnswer,
  type ScriptedAnswer,
} from "../../tools/kit/fake-postgres-server.ts";

// postgres.js 3.4.9 leaves state of a closed connection behind for the next connection on the same
// pool slot; our patch (patches/postgres@3.4.9.patch) resets it. Against a scripted fake server, so
// each awkward moment of a database restart happens on cue.

setDefaultTimeout(10_000);

/** Short, so that a connection stuck in startup shows up as CONNECT_TIMEOUT quickly. */
const CONNECT_TIMEOUT_S = 1;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Client {
  sql: Sql;
  /** The client's sockets, one per connection it opened, in order. */
  sockets: net.Socket[];
}

function startServer(answer: (query: string) => ScriptedAnswer): FakePostgresServer {
  const server = FakePostgresServer.start(answer);
  cleanups.push(() => server.stop());
  return server;
}

/** One pooled connection (so every query uses the same slot), with storagesvc's reconnect settings. */
function connectClient(server: FakePostgresServer): Client {
  const sockets: net.Socket[] = [];
  const options = {
    host: "127.0.0.1",
    port: server.port,
    user: "books",
    database: "bookstore",
    max: 1,
    connect_timeout: CONNECT_TIMEOUT_S,
    fetch_types: false,
    backoff: () => 0.1,
    // postgres.js's documented custom-socket option (missing from its type declarations): it lets
    // the test see the client side of each connection.
    socket: ({ host, port }: { host: string[]; port: number[] }) => {
      const socket = net.connect(port[0]!, host[0]!);
      sockets.push(socket);
      return socket;
    },
  };
  const sql = postgres(options);
  cleanups.push(() => sql.end({ timeout: 0 }));
  return { sql, sockets };
}

/** The query's rows as a plain array, or the error code it was rejected with. */
async function outcome(query: Promise<unknown[]>): Promise<unknown[] | string> {
  try {
    return [...(await query)];
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

describe("postgres.js reconnect after the server closed a connection (patched)", () => {
  test("a write pending when the connection closes does not swallow the next connection's startup message", async () => {
    const server = startServer(() => ({ messages: rowsAnswer("v", ["ok"]) }));
    const { sql, sockets } = connectClient(server);
    expect(await outcome(sql.unsafe("select 1"))).toEqual([{ v: "ok" }]);

    // The server closes the idle connection (as a backend does in `pg_ctl -m fast restart`). The client
    // sends a query after it has seen the FIN and before its socket's close event, as a busy pool
    // does: the query's bytes wait in postgres.js's write buffer for a flush the close cancels.
    const sentOnDeadConnection = new Promise<unknown[] | string>((resolve) =>
      sockets[0]!.once("end", () => resolve(outcome(sql.unsafe("select 2")))),
    );
    server.closeConnection(0);
    expect(await sentOnDeadConnection).toBe("CONNECTION_CLOSED");
    expect(server.connections[0]!.queries).toEqual(["select 1"]); // the flush was indeed still pending

    // The next query opens a new connection. Unpatched, its startup message was appended to the
    // stale buffer and never sent: the server saw a silent connection and the query failed with
    // CONNECT_TIMEOUT, again and again.
    const started = performance.now();
    expect(await outcome(sql.unsafe("select 3"))).toEqual([{ v: "ok" }]);
    expect(performance.now() - started).toBeLessThan(CONNECT_TIMEOUT_S * 1000);
    expect(server.connections).toHaveLength(2);
    expect(server.connections[1]!.startup).toMatchObject({ user: "books", database: "bookstore" });
    expect(server.connections[1]!.queries).toEqual(["select 3"]);
  });

  test("a FATAL sent before the close is not replayed onto the next connection's first query", async () => {
    // A backend ended by a fast shutdown while the client's query is in flight sends
    // `57P01 terminating connection due to administrator command`, then closes.
    const server = startServer((query) =>
      query === "select 1" ? { messages: [adminShutdown()], close: true } : { messages: rowsAnswer("v", ["ok"]) },
    );
    const { sql } = connectClient(server);
    expect(await outcome(sql.unsafe("select 1"))).toBeString();

    // Unpatched, the dead backend's error stayed behind and rejected this query the moment the new
    // connection was ready, without sending it.
    expect(await outcome(sql.unsafe("select 2"))).toEqual([{ v: "ok" }]);
    expect(server.connections[1]!.queries).toEqual(["select 2"]);
  });

  test("rows of a result cut off by the close do not leak into the next connection's first result", async () => {
    const server = startServer((query) =>
      query === "select 1"
        ? { messages: [rowDescription(["v"]), dataRow(["a"]), dataRow(["b"])], close: true }
        : { messages: rowsAnswer("v", ["c"]) },
    );
    const { sql } = connectClient(server);
    expect(await outcome(sql.unsafe("select 1"))).toBe("CONNECTION_CLOSED");

    // Unpatched, the row counter of the cut-off result carried over: [null, null, { v: "c" }].
    expect(await outcome(sql.unsafe("select 2"))).toEqual([{ v: "c" }]);
  });
});

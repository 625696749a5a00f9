import type { Socket, TCPSocketListener } from "bun";

/**
 * A tiny PostgreSQL server for driver tests: it speaks just enough of the wire protocol (v3, trust
 * auth, simple queries) to script what a real server does at awkward moments (answer part of a
 * result, send a FATAL, close), and it records every byte each connection sent. Loopback, port 0.
 */

/** What the server does with one simple query: send `messages`, then close the connection if `close`. */
export interface ScriptedAnswer {
  messages: Buffer[];
  close?: boolean;
}

/** Everything one client connection sent, in order. */
export interface RecordedConnection {
  /** The raw bytes, exactly as they arrived. */
  bytes: Buffer;
  /** The startup message's parameters (user, database, ...), once one arrived first. */
  startup: Record<string, string> | null;
  /** The text of each simple query (`Q`) received. */
  queries: string[];
}

interface ConnectionState {
  record: RecordedConnection;
  /** Bytes not yet parsed into whole messages. */
  pending: Buffer;
}

export class FakePostgresServer {
  private constructor(
    private readonly listener: TCPSocketListener<ConnectionState>,
    /** One entry per accepted connection, in order. */
    readonly connections: RecordedConnection[],
    private readonly sockets: Socket<ConnectionState>[],
  ) {}

  /** Starts listening on 127.0.0.1, port 0; `answer` decides the reply to each simple query. */
  static start(answer: (query: string, connection: RecordedConnection) => ScriptedAnswer): FakePostgresServer {
    const connections: RecordedConnection[] = [];
    const sockets: Socket<ConnectionState>[] = [];
    const listener = Bun.listen<ConnectionState>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          const record: RecordedConnection = { bytes: Buffer.alloc(0), startup: null, queries: [] };
          connections.push(record);
          socket.data = { record, pending: Buffer.alloc(0) };
          sockets.push(socket);
        },
        data(socket, chunk) {
          const state = socket.data;
          state.record.bytes = Buffer.concat([state.record.bytes, chunk]);
          state.pending = Buffer.concat([state.pending, chunk]);
          handleMessages(socket, state, answer);
        },
      },
    });
    return new FakePostgresServer(listener, connections, sockets);
  }

  get port(): number {
    return this.listener.port;
  }

  /** Closes the `index`th connection from the server's side (a FIN, as when a backend exits). */
  closeConnection(index: number): void {
    const socket = this.sockets[index];
    if (socket === undefined) throw new Error(`no connection #${index}`);
    socket.end();
  }

  stop(): void {
    this.listener.stop(true);
  }
}

function handleMessages(
  socket: Socket<ConnectionState>,
  state: ConnectionState,
  answer: (query: string, connection: RecordedConnection) => ScriptedAnswer,
): void {
  const { record } = state;
  for (;;) {
    // The first message of a connection is the startup message, which has no type byte.
    const isStartup = record.startup === null;
    const header = isStartup ? 4 : 5;
    if (state.pending.length < header) return;
    const length = state.pending.readUInt32BE(header - 4);
    const total = length + header - 4;
    if (state.pending.length < total) return;
    const message = state.pending.subarray(0, total);
    state.pending = state.pending.subarray(total);

    if (isStartup) {
      record.startup = parseStartup(message);
      if (record.startup === null) {
        socket.end(); // not a startup message: what a real server does too
        return;
      }
      socket.write(Buffer.concat([authenticationOk(), readyForQuery()]));
      continue;
    }
    if (String.fromCharCode(message[0]!) !== "Q") continue; // Terminate and anything else: ignored
    const query = message.toString("utf8", 5, message.length - 1);
    record.queries.push(query);
    const { messages, close = false } = answer(query, record);
    socket.write(Buffer.concat(messages));
    if (close) {
      socket.end();
      return;
    }
  }
}

/** The parameters of a protocol 3.0 startup message, or null when `message` is not one. */
function parseStartup(message: Buffer): Record<string, string> | null {
  if (message.length < 9 || message.readUInt32BE(4) !== 196608) return null;
  const fields = message.toString("utf8", 8, message.length - 2).split("\0");
  const parameters: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) parameters[fields[i]!] = fields[i + 1]!;
  return parameters;
}

/* Server messages (PostgreSQL protocol v3). */

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export function authenticationOk(): Buffer {
  return message("R", Buffer.from([0, 0, 0, 0]));
}

export function readyForQuery(): Buffer {
  return message("Z", Buffer.from("I"));
}

/** Columns of type text. */
export function rowDescription(columns: string[]): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(columns.length);
  const fields = columns.map((name) => {
    const field = Buffer.alloc(18);
    field.writeUInt32BE(25, 6); // type oid: text
    field.writeInt16BE(-1, 10); // type size: variable
    field.writeInt32BE(-1, 12); // type modifier: none
    return Buffer.concat([Buffer.from(`${name}\0`), field]);
  });
  return message("T", Buffer.concat([count, ...fields]));
}

export function dataRow(values: string[]): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(values.length);
  const cells = values.map((value) => {
    const text = Buffer.from(value);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(text.length);
    return Buffer.concat([length, text]);
  });
  return message("D", Buffer.concat([count, ...cells]));
}

export function commandComplete(tag: string): Buffer {
  return message("C", Buffer.from(`${tag}\0`));
}

/** What a backend sends when `pg_ctl -m fast stop` or `pg_terminate_backend` ends it. */
export function adminShutdown(): Buffer {
  const fields = ["SFATAL", "VFATAL", "C57P01", "Mterminating connection due to administrator command"];
  return message("E", Buffer.from(`${fields.join("\0")}\0\0`));
}

/** A whole successful answer: the rows, the command tag, ready for the next query. */
export function rowsAnswer(column: string, values: string[]): Buffer[] {
  return [
    rowDescription([column]),
    ...values.map((value) => dataRow([value])),
    commandComplete(`SELECT ${values.length}`),
    readyForQuery(),
  ];
}

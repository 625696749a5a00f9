/**
 * The load generator, run as its own process (`bun tools/bench/load.ts '<json options>'`) so it
 * never shares an event loop with what it measures. It keeps `concurrency` keep-alive HTTP/1.1
 * connections busy with one request in flight each (closed loop), for `warmupMs` unrecorded then
 * `durationMs` recorded, and prints one JSON object (a LoadResult) on stdout.
 *
 * It speaks HTTP/1.1 over raw sockets (Bun.connect) instead of fetch: at tens of thousands of
 * requests per second on two cores, every microsecond the client spends is taken from the server,
 * and a minimal client leaves the most for the thing under test.
 */
import type { Socket } from "bun";
import { type HistogramJson, LatencyHistogram } from "./latency-histogram.ts";
import { processCpuSeconds } from "./processes.ts";

export interface LoadOptions {
  url: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** A header line (case-insensitive, e.g. `cache-status: booksvc; hit`) every answer must carry. */
  expectHeader?: string;
  /** The server's process id: its CPU time over the recorded window is reported as `serverCpuSeconds`. */
  serverPid?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Network errors and non-2xx answers. */
  errors: number;
  /** 2xx answers without `expectHeader`: served, but not by the path we meant to measure. */
  unexpected: number;
  statuses: Record<string, number>;
  histogram: HistogramJson;
  /** CPU the load generator itself used during the recorded window, in cores (1.0 = one core). */
  clientCores: number;
  /** CPU seconds (all threads) `serverPid` used during the recorded window; absent without /proc. */
  serverCpuSeconds?: number;
  firstError?: string;
}

interface Connection {
  socket: Socket<Connection> | undefined;
  pending: Buffer | undefined;
  sentAt: number;
  busy: boolean;
}

export type Parsed = { status: number; head: string; length: number } | "incomplete";

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Parses one HTTP response at the start of `buffer`; `length` is its total size in bytes. */
export function parseResponse(buffer: Buffer): Parsed {
  const headerEnd = buffer.indexOf(CRLFCRLF);
  if (headerEnd === -1) return "incomplete";
  const head = buffer.toString("latin1", 0, headerEnd).toLowerCase();
  const status = Number(head.slice(9, 12));
  const bodyStart = headerEnd + 4;
  const contentLength = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (contentLength) {
    const length = bodyStart + Number(contentLength[1]);
    return buffer.length >= length ? { status, head, length } : "incomplete";
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buffer.indexOf("\r\n", at);
      if (lineEnd === -1) return "incomplete";
      const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
      at = lineEnd + 2 + size + 2;
      if (at > buffer.length) return "incomplete";
      if (size === 0) return { status, head, length: at };
    }
  }
  return { status, head, length: bodyStart };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const hostname = url.hostname;
  const port = Number(url.port || 80);
  const request = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\n\r\n`,
  );
  const expect = options.expectHeader?.toLowerCase();

  const start = performance.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;
  let running = true;
  let cpuAtRecord: NodeJS.CpuUsage | undefined;
  const histogram = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let unexpected = 0;
  let firstError: string | undefined;

  const recordError = (what: string): void => {
    if (performance.now() >= recordFrom) errors += 1;
    firstError ??= what;
  };

  const send = (connection: Connection): void => {
    if (!running || connection.socket === undefined) return;
    connection.busy = true;
    connection.sentAt = performance.now();
    connection.socket.write(request);
  };

  const onResponse = (connection: Connection, status: number, head: string): void => {
    const now = performance.now();
    connection.busy = false;
    if (now >= recordFrom && now <= stopAt) {
      requests += 1;
      statuses[status] = (statuses[status] ?? 0) + 1;
      histogram.record(now - connection.sentAt);
      if (status < 200 || status > 299) {
        errors += 1;
        firstError ??= `HTTP ${status}`;
      } else if (expect !== undefined && !head.includes(expect)) {
        unexpected += 1;
        firstError ??= `answer without "${options.expectHeader}"`;
      }
    }
    send(connection);
  };

  const connect = (connection: Connection): void => {
    if (!running) return;
    Bun.connect<Connection>({
      hostname,
      port,
      data: connection,
      socket: {
        open(socket) {
          connection.socket = socket;
          connection.pending = undefined;
          send(connection);
        },
        data(_socket, chunk) {
          let buffer = connection.pending === undefined ? chunk : Buffer.concat([connection.pending, chunk]);
          for (;;) {
            const parsed = parseResponse(buffer);
            if (parsed === "incomplete") break;
            onResponse(connection, parsed.status, parsed.head);
            buffer = buffer.subarray(parsed.length);
            if (buffer.length === 0) break;
          }
          connection.pending = buffer.length === 0 ? undefined : buffer;
        },
        close() {
          connection.socket = undefined;
          if (!running) return;
          if (connection.busy) recordError("connection closed mid-request");
          connection.busy = false;
          setTimeout(() => connect(connection), 5);
        },
        error(_socket, error) {
          recordError(`socket error: ${error.message}`);
        },
        connectError(_socket, error) {
          recordError(`connect error: ${error.message}`);
          setTimeout(() => connect(connection), 10);
        },
      },
    }).catch((error: unknown) => {
      // Bun.connect also rejects when the connection is refused; connectError above retries.
      firstError ??= `connect: ${String(error)}`;
    });
  };

  const connections: Connection[] = Array.from({ length: options.concurrency }, () => ({
    socket: undefined,
    pending: undefined,
    sentAt: 0,
    busy: false,
  }));
  for (const connection of connections) connect(connection);

  await Bun.sleep(Math.max(0, recordFrom - performance.now()));
  cpuAtRecord = process.cpuUsage();
  const serverCpuAtRecord = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  await Bun.sleep(Math.max(0, stopAt - performance.now()));
  const cpu = process.cpuUsage(cpuAtRecord);
  const serverCpuAtStop = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  running = false;
  for (const connection of connections) connection.socket?.end();

  const seconds = options.durationMs / 1000;
  return {
    requests,
    seconds,
    errors,
    unexpected,
    statuses,
    histogram: histogram.toJSON(),
    clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
    ...(serverCpuAtRecord !== undefined && serverCpuAtStop !== undefined ? { serverCpuSeconds: serverCpuAtStop - serverCpuAtRecord } : {}),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

if (import.meta.main) {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("usage: bun tools/bench/load.ts '<json LoadOptions>'");
  const result = await runLoad(JSON.parse(raw) as LoadOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

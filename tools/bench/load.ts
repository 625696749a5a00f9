/**
 * The load generator, run as its own process (`bun tools/bench/load.ts '<json options>'`) so it
 * never shares an event loop with what it measures. For `warmupMs` unrecorded then `durationMs`
 * recorded, it prints one JSON object (a LoadResult) on stdout. Two ways to load:
 * - open loop (`rate`): requests leave at fixed times (tools/kit/fixed-rate.ts) on up to
 *   `concurrency` keep-alive connections, and each is timed from when it was meant to leave, so a
 *   stall counts once for every request it held up. This is what the latency columns report.
 * - closed loop: `concurrency` connections with one request in flight each, the next sent on the
 *   answer. It finds the most a target can answer, and only that is read from it: its latencies
 *   are service times under saturation, blind to stalls.
 *
 * It speaks HTTP/1.1 over raw sockets (Bun.connect) instead of fetch: at tens of thousands of
 * requests per second on two cores, every microsecond the client spends is taken from the server,
 * and a minimal client leaves the most for the thing under test.
 */
import type { Socket } from "bun";
import { type HistogramJson, LatencyHistogram } from "../kit/latency-histogram.ts";
import { processCpuSeconds } from "./processes.ts";
import { sendAtFixedRate } from "../kit/fixed-rate.ts";

export interface LoadOptions {
  url: string;
  /**
   * Closed loop: keep-alive connections, one request in flight each, the next sent on the answer.
   * Open loop: the most connections open at once; requests beyond them wait for one.
   */
  concurrency: number;
  /** Requests per second sent at fixed times (open loop); absent: closed loop, as fast as answered. */
  rate?: number;
  /** Open loop: a request neither sent nor answered this long after its intended time is a timeout. */
  timeoutMs?: number;
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
  /** Network errors, non-2xx answers and timeouts. */
  errors: number;
  /** Open loop: requests not answered (or not even sent) within `timeoutMs` of their intended time. */
  timeouts: number;
  /** 2xx answers without `expectHeader`: served, but not by the path we meant to measure. */
  unexpected: number;
  statuses: Record<string, number>;
  /** Latencies; open loop from each request's intended send time, errors and timeouts included. */
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
  /** When the request in flight was meant to leave: its send time in closed loop. */
  intendedAt: number;
  busy: boolean;
}

/** Open loop: a request not even sent this long after its intended time is a timeout. */
const DEFAULT_TIMEOUT_MS = 5_000;

type Parsed = { status: number; head: string; length: number } | "incomplete";

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Parses one HTTP response at the start of `buffer`; `length` is its total size in bytes. */
function parseResponse(buffer: Buffer): Parsed {
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
  const openLoop = options.rate !== undefined;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const start = performance.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;
  let running = true;
  const histogram = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let timeouts = 0;
  let unexpected = 0;
  let firstError: string | undefined;
  // Open loop counts a request by when it was meant to leave, closed loop by when it was answered.
  const recorded = (intendedAt: number, answeredAt: number): boolean => {
    const at = openLoop ? intendedAt : answeredAt;
    return at >= recordFrom && at < stopAt;
  };

  const recordError = (intendedAt: number, what: string): void => {
    const now = performance.now();
    if (recorded(intendedAt, now)) {
      errors += 1;
      histogram.record(now - intendedAt);
    }
    firstError ??= what;
  };

  const connections = new Set<Connection>();
  const idle: Connection[] = [];
  /** Open loop: intended send times waiting for a free connection, oldest first. */
  const waiting: number[] = [];

  /** Sends on `connection` the oldest request still worth sending; returns false when there is none. */
  const sendNext = (connection: Connection): boolean => {
    if (!running || connection.socket === undefined) return false;
    let intendedAt: number | undefined;
    if (!openLoop) intendedAt = performance.now();
    while (openLoop && intendedAt === undefined && waiting.length > 0) {
      const oldest = waiting.shift() as number;
      if (performance.now() - oldest < timeoutMs) intendedAt = oldest;
      else if (recorded(oldest, oldest)) {
        // Never sent within the timeout: a timeout from its intended time, as a user would see it.
        timeouts += 1;
        histogram.record(performance.now() - oldest);
      }
    }
    if (intendedAt === undefined) return false;
    connection.intendedAt = intendedAt;
    connection.busy = true;
    connection.socket.write(request);
    return true;
  };

  const release = (connection: Connection): void => {
    connection.busy = false;
    if (!sendNext(connection) && connection.socket !== undefined) idle.push(connection);
  };

  const onResponse = (connection: Connection, status: number, head: string): void => {
    const now = performance.now();
    if (recorded(connection.intendedAt, now)) {
      requests += 1;
      statuses[status] = (statuses[status] ?? 0) + 1;
      histogram.record(now - connection.intendedAt);
      if (status < 200 || status > 299) {
        errors += 1;
        firstError ??= `HTTP ${status}`;
      } else if (expect !== undefined && !head.includes(expect)) {
        unexpected += 1;
        firstError ??= `answer without "${options.expectHeader}"`;
      }
    }
    release(connection);
  };

  const drop = (connection: Connection): void => {
    connections.delete(connection);
    const at = idle.indexOf(connection);
    if (at !== -1) idle.splice(at, 1);
  };

  const connect = (connection: Connection): void => {
    if (!running) return;
    connections.add(connection);
    Bun.connect<Connection>({
      hostname,
      port,
      data: connection,
      socket: {
        open(socket) {
          connection.socket = socket;
          connection.pending = undefined;
          release(connection);
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
          drop(connection);
          if (!running) return;
          if (connection.busy) recordError(connection.intendedAt, "connection closed mid-request");
          connection.busy = false;
          // Closed loop keeps its clients; open loop opens connections again as requests need them.
          if (!openLoop) setTimeout(() => connect(connection), 5);
        },
        error(_socket, error) {
          firstError ??= `socket error: ${error.message}`;
        },
        connectError(_socket, error) {
          firstError ??= `connect error: ${error.message}`;
          drop(connection);
          if (!openLoop) setTimeout(() => connect(connection), 10);
        },
      },
    }).catch((error: unknown) => {
      // Bun.connect also rejects when the connection is refused; connectError above handled it.
      firstError ??= `connect: ${String(error)}`;
    });
  };

  const newConnection = (): Connection => ({ socket: undefined, pending: undefined, intendedAt: 0, busy: false });

  /** Open loop: one request meant to leave at `intendedAt`, on a free connection, a new one, or after the others. */
  const dispatch = (intendedAt: number): void => {
    waiting.push(intendedAt);
    const connection = idle.pop();
    if (connection !== undefined) release(connection);
    else if (connections.size < options.concurrency) connect(newConnection());
  };

  let sending: Promise<number> | undefined;
  if (openLoop) {
    sending = sendAtFixedRate({ ratePerSecond: options.rate as number, startAt: start, stopAt }, dispatch);
  } else {
    for (let i = 0; i < options.concurrency; i++) connect(newConnection());
  }

  await Bun.sleep(Math.max(0, recordFrom - performance.now()));
  const cpuAtRecord = process.cpuUsage();
  const serverCpuAtRecord = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  await Bun.sleep(Math.max(0, stopAt - performance.now()));
  const cpu = process.cpuUsage(cpuAtRecord);
  const serverCpuAtStop = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  if (openLoop) {
    // The answers to requests meant for the window still count, however late: that is the point.
    await sending;
    const drainUntil = performance.now() + timeoutMs;
    while ((waiting.length > 0 || [...connections].some((c) => c.busy)) && performance.now() < drainUntil) await Bun.sleep(5);
  }
  running = false;
  for (const intendedAt of waiting) {
    if (recorded(intendedAt, intendedAt)) {
      timeouts += 1;
      histogram.record(performance.now() - intendedAt);
    }
  }
  for (const connection of connections) {
    if (connection.busy && recorded(connection.intendedAt, connection.intendedAt) && openLoop) {
      timeouts += 1;
      histogram.record(performance.now() - connection.intendedAt);
    }
    connection.socket?.end();
  }

  const seconds = options.durationMs / 1000;
  return {
    requests,
    seconds,
    errors: errors + timeouts,
    timeouts,
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

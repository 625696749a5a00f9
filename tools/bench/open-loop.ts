/**
 * An open-loop load generator, run as its own process (`bun tools/bench/open-loop.ts '<json>'`):
 * requests leave at a fixed rate whatever the answers do, as users arrive, so an overloaded server
 * cannot slow its own load down (a closed loop hides overload: clients wait, and ask less). Each
 * request goes on an idle keep-alive connection, or a new one when all are busy. Latency runs from
 * the moment a request was due, so a late send counts against the server (no coordinated omission).
 * A probe asks `probeUrl` every 100 ms on its own connection. Prints one OpenLoopResult as JSON.
 * With `clients`, the same measure of a closed loop instead: that many connections, each sending
 * its next request as soon as its answer arrives (2,000 impatient clients).
 */
import type { Socket } from "bun";
import { sendAtFixedRate } from "../kit/fixed-rate.ts";
import { type HistogramJson, LatencyHistogram } from "../kit/latency-histogram.ts";
import { parseResponse } from "./load.ts";

export interface OpenLoopOptions {
  url: string;
  /** Requests per second, open loop. */
  ratePerS?: number;
  /** Instead of `ratePerS`: this many closed-loop clients. */
  clients?: number;
  /** Closed loop: a client answered `503` with `Retry-After: n` waits n s before asking again, as a polite client does. */
  honourRetryAfter?: boolean;
  durationMs: number;
  /** Asked every 100 ms throughout (e.g. `/healthz`); its worst latency and statuses are reported. */
  probeUrl?: string;
  /** How long answers are awaited after the last request was sent. Default 5 s. */
  graceMs?: number;
  /** Most connections opened; a due request finding none idle is counted `notSent`. Default 8,000. */
  maxConnections?: number;
  /** Open loop: connections opened (and used once) before the run, so it does not start with a storm of connects. Default 256. */
  warmConnections?: number;
}

export interface OpenLoopResult {
  /** Open loop: the rate asked for; closed loop: the rate the clients reached. */
  offeredPerS: number;
  sent: number;
  /** Due requests that found no connection (maxConnections reached). */
  notSent: number;
  /** Sent, and no answer within the grace period (or their connection failed). */
  unanswered: number;
  statuses: Record<string, number>;
  /** 2xx answers' latencies. */
  admitted: HistogramJson;
  /** 503 answers' latencies. */
  shed: HistogramJson;
  /** Connections opened (warm-up pool included). */
  connections: number;
  /** The latest a request left after it was due: above a few ms, the generator itself fell behind. */
  maxSendLagMs: number;
  probe: { statuses: Record<string, number>; maxMs: number; unanswered: number };
  firstError?: string;
}

interface Connection {
  socket: Socket<Connection> | undefined;
  pending: Buffer | undefined;
  /** When the request in flight was due; undefined when idle. */
  dueAt: number | undefined;
  onAnswer: (status: number, dueAt: number, head: string) => void;
}

const RETRY_AFTER = /\r\nretry-after: *(\d+)/;

function requestBytes(url: URL): Buffer {
  return Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\n\r\n`);
}

/** A keep-alive connection that sends `request` when asked and reports each answer. */
function openConnection(url: URL, request: Buffer, connection: Connection, onBroken: (connection: Connection, why: string) => void): void {
  Bun.connect<Connection>({
    hostname: url.hostname,
    port: Number(url.port || 80),
    data: connection,
    socket: {
      open(socket) {
        connection.socket = socket;
        if (connection.dueAt !== undefined) socket.write(request);
      },
      data(_socket, chunk) {
        let buffer = connection.pending === undefined ? chunk : Buffer.concat([connection.pending, chunk]);
        for (;;) {
          const parsed = parseResponse(buffer);
          if (parsed === "incomplete") break;
          const dueAt = connection.dueAt;
          connection.dueAt = undefined;
          if (dueAt !== undefined) connection.onAnswer(parsed.status, dueAt, parsed.head);
          buffer = buffer.subarray(parsed.length);
          if (buffer.length === 0) break;
        }
        connection.pending = buffer.length === 0 ? undefined : buffer;
      },
      close() {
        connection.socket = undefined;
        onBroken(connection, "connection closed");
      },
      connectError(_socket, error) {
        onBroken(connection, `connect error: ${error.message}`);
      },
    },
  }).catch(() => {
    // connectError above has recorded it.
  });
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(options.url);
  const request = requestBytes(url);
  const maxConnections = options.maxConnections ?? 8_000;
  let admitted = new LatencyHistogram();
  let shed = new LatencyHistogram();
  let statuses: Record<string, number> = {};
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  let sent = 0;
  let answered = 0;
  let notSent = 0;
  let opened = 0;
  let broken = 0;
  let firstError: string | undefined;

  let sending = true;
  const onAnswer = function (this: Connection, status: number, dueAt: number, head: string): void {
    answered++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    const now = performance.now();
    const ms = now - dueAt;
    if (status >= 200 && status < 300) admitted.record(ms);
    else if (status === 503) shed.record(ms);
    if (options.clients !== undefined && sending) {
      // Closed loop: this client asks again at once, or after Retry-After when it honours it.
      const retryAfterS = options.honourRetryAfter && status === 503 ? Number(RETRY_AFTER.exec(head)?.[1] ?? 0) : 0;
      const askAgain = (): void => {
        if (!sending) {
          idle.push(this);
          return;
        }
        this.dueAt = performance.now();
        sent++;
        this.socket?.write(request);
      };
      if (retryAfterS > 0) setTimeout(askAgain, retryAfterS * 1000);
      else askAgain();
      return;
    }
    idle.push(this);
  };
  const onBroken = (connection: Connection, why: string): void => {
    all.delete(connection);
    const index = idle.indexOf(connection);
    if (index !== -1) idle.splice(index, 1);
    if (connection.dueAt !== undefined) {
      broken++;
      firstError ??= why;
    }
    connection.dueAt = undefined;
  };
  const send = (dueAt: number): void => {
    let connection = idle.pop();
    if (connection === undefined) {
      if (all.size >= maxConnections) {
        notSent++;
        return;
      }
      connection = { socket: undefined, pending: undefined, dueAt: undefined, onAnswer: () => {} };
      connection.onAnswer = onAnswer.bind(connection);
      all.add(connection);
      opened++;
      connection.dueAt = dueAt;
      sent++;
      openConnection(url, request, connection, onBroken);
      return;
    }
    connection.dueAt = dueAt;
    sent++;
    connection.socket?.write(request);
  };

  // The probe: its own connection, one request at a time, every 100 ms.
  const probe = { statuses: {} as Record<string, number>, maxMs: 0, unanswered: 0 };
  let probing = true;
  const probeLoop = (async () => {
    if (options.probeUrl === undefined) return;
    while (probing) {
      const started = performance.now();
      try {
        const response = await fetch(options.probeUrl, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        probe.statuses[response.status] = (probe.statuses[response.status] ?? 0) + 1;
        probe.maxMs = Math.max(probe.maxMs, performance.now() - started);
      } catch {
        probe.unanswered++;
      }
      await Bun.sleep(Math.max(0, 100 - (performance.now() - started)));
    }
  })();

  if (options.clients === undefined) {
    // Warm-up: a pool of connections, each used once; these answers are not counted.
    const warm = options.warmConnections ?? 256;
    for (let i = 0; i < warm; i++) send(performance.now());
    const warmedBy = performance.now() + 5_000;
    while (answered + broken < sent && performance.now() < warmedBy) await Bun.sleep(10);
    sent = answered = broken = 0;
    admitted = new LatencyHistogram();
    shed = new LatencyHistogram();
    statuses = {};
  }

  const rate = options.ratePerS ?? 0;
  let maxSendLagMs = 0;
  if (options.clients !== undefined) {
    for (let i = 0; i < options.clients; i++) send(performance.now());
    await Bun.sleep(options.durationMs);
  }
  sending = false;
  if (options.clients === undefined) {
    const start = performance.now();
    await sendAtFixedRate({ ratePerSecond: rate, startAt: start, stopAt: start + options.durationMs }, (dueAt) => {
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - dueAt);
      send(dueAt);
    });
  }
  const graceEnds = performance.now() + (options.graceMs ?? 5_000);
  while (answered + broken < sent && performance.now() < graceEnds) await Bun.sleep(20);
  probing = false;
  await probeLoop;
  for (const connection of all) connection.socket?.end();

  return {
    offeredPerS: options.clients === undefined ? rate : Math.round((sent * 1000) / options.durationMs),
    sent,
    notSent,
    unanswered: sent - answered,
    statuses,
    admitted: admitted.toJSON(),
    shed: shed.toJSON(),
    connections: opened,
    maxSendLagMs,
    probe,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

if (import.meta.main) {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("usage: bun tools/bench/open-loop.ts '<json OpenLoopOptions>'");
  process.stdout.write(`${JSON.stringify(await runOpenLoop(JSON.parse(raw) as OpenLoopOptions))}\n`);
}

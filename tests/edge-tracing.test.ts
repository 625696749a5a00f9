import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type FaultProxy, startFaultProxy } from "../tools/faultproxy/index.ts";
import { freePort } from "../tools/kit/free-port.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../tools/kit/otlp-receiver.ts";
import { createFreshDatabase, type FreshDatabase, SHARED_POSTGRES_URL } from "../tools/kit/postgres.ts";
import { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// W3C Trace Context across the real services: booksvc continues the caller's trace, gives each
// upstream attempt (retries included) its own span id, storagesvc continues from that attempt, and
// both log the trace id; with OTEL_EXPORTER_OTLP_ENDPOINT the spans of all of it reach a collector
// (a real OTLP/HTTP server here) as one trace. The failing attempt is real: storagesvc's database
// connection is cut by a fault proxy, so storagesvc answers 503, then restored.

setDefaultTimeout(60_000);

const CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID = "00f067aa0ba902b7";
const SERVER = 2;
const CLIENT = 3;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

let database: FreshDatabase;
let databaseProxy: FaultProxy;
beforeAll(async () => {
  database = await createFreshDatabase("edge_tracing");
  cleanups.push(() => database.drop());
  const shared = new URL(SHARED_POSTGRES_URL);
  databaseProxy = await startFaultProxy({ target: { host: shared.hostname, port: Number(shared.port || 5432) } });
  cleanups.push(() => databaseProxy.close());
});

/** storagesvc (through the database proxy) and a `retry` booksvc in front of it, retrying every 100 ms. */
async function startPair(env: Record<string, string>): Promise<{ storagesvc: ServiceProcess; booksvc: ServiceProcess }> {
  const url = new URL(database.url);
  url.hostname = databaseProxy.host;
  url.port = String(databaseProxy.port);
  const storagesvc = await startStoragesvcProcess(url.toString(), (stop) => cleanups.push(stop), { DB_POOL_MAX: "2", ...env });
  await storagesvc.waitFor("/readyz", 200, 20_000);
  const port = await freePort();
  const booksvc = ServiceProcess.start({
    entry: "cmd/booksvc/main.ts",
    port,
    env: {
      HTTP_PORT: String(port),
      STORAGESVC_URL: `${storagesvc.url}/books`,
      RESILIENCE_STRATEGY: "retry",
      COLLAPSE_REQUESTS: "false",
      RETRY_INITIAL_INTERVAL_MS: "100",
      RETRY_MULTIPLIER: "1",
      RETRY_RANDOMIZATION_FACTOR: "0",
      REQUEST_TIMEOUT_MS: "20000",
      ...env,
    },
  });
  cleanups.push(() => booksvc.stop("SIGKILL"));
  await booksvc.waitFor("/healthz");
  return { storagesvc, booksvc };
}

/**
 * Asks booksvc for the books while storagesvc cannot reach its database, so the first attempt
 * fails (storagesvc answers 503); once storagesvc has logged that answer, the database comes back
 * and a retry succeeds. Resolves with the answer's status.
 */
async function requestThroughOneFailure(pair: { storagesvc: ServiceProcess }, booksvcUrl: string, requestId: string, headers: Record<string, string> = {}) {
  await databaseProxy.cut();
  try {
    const answer = fetch(booksvcUrl, { headers: { "X-Request-Id": requestId, ...headers }, signal: AbortSignal.timeout(30_000) });
    await pair.storagesvc.waitForLog((line) => line.msg === "request" && line.request_id === requestId && line.status === 503, 15_000);
    await databaseProxy.pass();
    const response = await answer;
    await response.body?.cancel();
    return response.status;
  } finally {
    await databaseProxy.pass();
  }
}

describe("trace context without an exporter", () => {
  test("one trace id on both services' log lines for the same request, retries included", async () => {
    const pair = await startPair({});
    const status = await requestThroughOneFailure(pair, pair.booksvc.url, "trace-log-1");
    expect(status).toBe(200);

    const booksvcLine = await pair.booksvc.waitForLog((line) => line.msg === "request" && line.request_id === "trace-log-1");
    const traceId = booksvcLine.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const storagesvcLines = pair.storagesvc.logs.filter((line) => line.msg === "request" && line.request_id === "trace-log-1");
    expect(storagesvcLines.map((line) => line.status)).toContain(503);
    expect(storagesvcLines.at(-1)?.status).toBe(200);
    for (const line of storagesvcLines) expect(line.trace_id).toBe(traceId);
    // Every access-log line of both services carries a trace id, probes included.
    for (const line of [...pair.booksvc.logs, ...pair.storagesvc.logs].filter((l) => l.msg === "request")) {
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe("trace export over OTLP/HTTP", () => {
  let receiver: OtlpReceiver;
  beforeAll(() => {
    receiver = startOtlpReceiver();
    cleanups.push(() => receiver.close());
  });

  test("booksvc's and storagesvc's spans of one request, a failed attempt and its retry included, form one trace", async () => {
    const pair = await startPair({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    const status = await requestThroughOneFailure(pair, pair.booksvc.url, "trace-otlp-1", {
      traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`,
    });
    expect(status).toBe(200);

    const ofTrace = (spans: readonly ReceivedSpan[]) => spans.filter((span) => span.traceId === CALLER_TRACE_ID);
    const storagesvcRequests = (spans: readonly ReceivedSpan[]) =>
      ofTrace(spans).filter((span) => span.service === "storagesvc" && span.kind === SERVER);
    await receiver.until("both services' spans of the request", (spans) => {
      const trace = ofTrace(spans);
      return (
        trace.some((span) => span.service === "booksvc" && span.kind === SERVER) &&
        storagesvcRequests(spans).some((span) => span.attributes["http.response.status_code"] === 200) &&
        trace.some((span) => span.name === "books query" && span.statusCode !== 2)
      );
    });
    const trace = ofTrace(receiver.spans);

    // booksvc: its request continues the caller's span; each attempt is its own client span under it.
    const request = trace.filter((span) => span.service === "booksvc" && span.kind === SERVER);
    expect(request).toHaveLength(1);
    expect(request[0]?.parentSpanId).toBe(CALLER_SPAN_ID);
    const attempts = trace.filter((span) => span.service === "booksvc" && span.name === "upstream attempt");
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((span) => span.kind === CLIENT && span.parentSpanId === request[0]?.spanId)).toBe(true);
    expect(new Set(attempts.map((span) => span.spanId)).size).toBe(attempts.length);
    expect(attempts.filter((span) => span.statusCode === 2).length).toBe(attempts.length - 1);

    // storagesvc: one request span per attempt that reached it, each the child of that attempt.
    const served = storagesvcRequests(receiver.spans);
    expect(served.map((span) => span.attributes["http.response.status_code"])).toContain(503);
    const attemptIds = new Set(attempts.map((span) => span.spanId));
    for (const span of served) expect(attemptIds.has(span.parentSpanId ?? "")).toBe(true);
    expect(new Set(served.map((span) => span.parentSpanId)).size).toBe(served.length);
    // Its query span hangs under its request span.
    const servedIds = new Set(served.map((span) => span.spanId));
    const queries = trace.filter((span) => span.service === "storagesvc" && span.name === "books query");
    expect(queries.length).toBeGreaterThanOrEqual(1);
    for (const query of queries) expect(servedIds.has(query.parentSpanId ?? "")).toBe(true);
    expect(receiver.rejected).toEqual([]);
  });

  test("booksvc's cache read is a span of the request too", async () => {
    const port = await freePort();
    const booksvc = ServiceProcess.start({
      entry: "cmd/booksvc/main.ts",
      port,
      // Nothing listens on the upstream port: `breaker` opens at once and reads the cache.
      env: { HTTP_PORT: String(port), STORAGESVC_URL: `http://127.0.0.1:${await freePort()}/books`, RESILIENCE_STRATEGY: "breaker", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
    });
    cleanups.push(() => booksvc.stop("SIGKILL"));
    await booksvc.waitFor("/healthz");
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    for (let i = 0; i < 2; i++) {
      const response = await fetch(booksvc.url, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
      await response.body?.cancel();
    }
    await receiver.until("a cache read span", (spans) => spans.some((span) => span.traceId === traceId && span.name === "cache read"));
    const requests = receiver.spans.filter((span) => span.traceId === traceId && span.kind === SERVER).map((span) => span.spanId);
    const read = receiver.spans.find((span) => span.traceId === traceId && span.name === "cache read");
    expect(requests).toContain(read?.parentSpanId ?? "");
  });
});

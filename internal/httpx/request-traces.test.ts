import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { captureLogger } from "../../tools/kit/capture-logger.ts";
import { formatTraceparent, idOnlyTracer, type SpanOptions, type Tracer } from "../tracing/index.ts";
import { Readiness } from "./readiness.ts";
import { createServiceApp } from "./service-app.ts";

const CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** The id-only tracer, recording what each span was started with and how it ended. */
function recordingTracer() {
  const inner = idOnlyTracer();
  const spans: { name: string; options: SpanOptions; attributes: Record<string, unknown>; ended?: { error: unknown } }[] = [];
  const tracer: Tracer = {
    startSpan(name, options = {}) {
      const span = inner.startSpan(name, options);
      const record: (typeof spans)[number] = { name, options, attributes: {} };
      spans.push(record);
      return {
        ...span,
        recording: true,
        setAttribute: (key, value) => void (record.attributes[key] = value),
        end: (error) => void (record.ended = { error }),
      };
    },
    shutdown: () => inner.shutdown(),
  };
  return { tracer, spans };
}

function setup() {
  const { logger, lines } = captureLogger({ app: "testsvc", level: "info" });
  const { tracer, spans } = recordingTracer();
  const app = createServiceApp({ logger, registry: new Registry(), readiness: new Readiness(), tracer });
  app.get("/things", (c) => c.json({ trace: c.get("trace") }));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  return { app, lines, spans };
}

describe("request traces", () => {
  test("continues the caller's traceparent: same trace id, a new span id, logged as trace_id", async () => {
    const { app, lines, spans } = setup();
    const response = await app.request("/things", { headers: { traceparent: CALLER } });
    const { trace } = (await response.json()) as { trace: { traceId: string; spanId: string } };
    expect(trace.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(trace.spanId).not.toBe("00f067aa0ba902b7");
    expect(spans[0]?.options.parent?.spanId).toBe("00f067aa0ba902b7");
    expect(spans[0]?.options.kind).toBe("server");
    expect(lines.find((line) => line.msg === "request")?.trace_id).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  test("starts a trace when there is no traceparent, or an invalid one, and logs its id", async () => {
    const { app, lines } = setup();
    for (const headers of [{}, { traceparent: "00-zz-bad-01" }] as Record<string, string>[]) {
      const { trace } = (await (await app.request("/things", { headers })).json()) as { trace: { traceId: string } };
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(lines.filter((line) => line.msg === "request").at(-1)?.trace_id).toBe(trace.traceId);
    }
  });

  test("every access-log line has a trace_id, 404s and errors included, and a 5xx ends its span failed", async () => {
    const { app, lines, spans } = setup();
    await app.request("/nope");
    await app.request("/boom");
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests).toHaveLength(2);
    for (const line of requests) expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(spans.map((s) => s.ended?.error === undefined)).toEqual([true, false]);
  });

  test("a recorded span carries the method, the route (not the path) and the status", async () => {
    const { app, spans } = setup();
    await app.request("/things?x=1");
    await app.request("/nope");
    expect(spans.map((s) => s.attributes)).toEqual([
      { "http.request.method": "GET", "http.route": "/things", "http.response.status_code": 200 },
      { "http.request.method": "GET", "http.route": "unmatched", "http.response.status_code": 404 },
    ]);
  });

  test("what a handler forwards reads back as the request's span", async () => {
    const { app } = setup();
    const { trace } = (await (await app.request("/things", { headers: { traceparent: CALLER } })).json()) as {
      trace: { traceId: string; spanId: string; flags: number };
    };
    expect(formatTraceparent(trace)).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${trace.spanId}-01`);
  });
});

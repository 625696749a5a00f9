import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../../tools/kit/fake-upstream.ts";
import { idOnlyTracer, parseTraceparent, type SpanOptions, type Tracer } from "../tracing/index.ts";
import { tracedUpstream } from "./traced-upstream.ts";
import { createUpstreamClient } from "./upstream.ts";

setDefaultTimeout(20_000);

const REQUEST_SPAN = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 };

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream.close());

/** The id-only tracer, recording each span's options and whether it ended failed. */
function recordingTracer() {
  const inner = idOnlyTracer();
  const spans: { name: string; options: SpanOptions; spanId: string; failed?: boolean }[] = [];
  const tracer: Tracer = {
    startSpan(name, options = {}) {
      const span = inner.startSpan(name, options);
      const record: (typeof spans)[number] = { name, options, spanId: span.context.spanId };
      spans.push(record);
      return { ...span, end: (error) => void (record.failed = error !== undefined) };
    },
    shutdown: () => inner.shutdown(),
  };
  return { tracer, spans };
}

describe("tracedUpstream", () => {
  test("each attempt is a client span under the request's span, sent upstream as traceparent with its own span id", async () => {
    const { tracer, spans } = recordingTracer();
    const client = tracedUpstream(createUpstreamClient({ url: upstream.url, attemptTimeoutMs: 1_000 }), tracer);
    upstream.queue({ kind: "status", code: 500 });
    await expect(client.fetchBooks({ trace: REQUEST_SPAN })).rejects.toThrow();
    await client.fetchBooks({ trace: REQUEST_SPAN });

    const sent = upstream.requests.slice(-2).map((request) => parseTraceparent(request.headers.traceparent));
    expect(sent.map((context) => context?.traceId)).toEqual([REQUEST_SPAN.traceId, REQUEST_SPAN.traceId]);
    expect(sent.map((context) => context?.spanId)).toEqual(spans.map((span) => span.spanId));
    expect(new Set([...spans.map((span) => span.spanId), REQUEST_SPAN.spanId]).size).toBe(3);
    expect(spans.map((span) => [span.name, span.options.kind, span.options.parent?.spanId, span.failed])).toEqual([
      ["upstream attempt", "client", REQUEST_SPAN.spanId, true],
      ["upstream attempt", "client", REQUEST_SPAN.spanId, false],
    ]);
  });

  test("without a request span the attempt starts a trace of its own", async () => {
    const client = tracedUpstream(createUpstreamClient({ url: upstream.url, attemptTimeoutMs: 1_000 }), idOnlyTracer());
    await client.fetchBooks();
    expect(parseTraceparent(upstream.lastHeaders?.traceparent)?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

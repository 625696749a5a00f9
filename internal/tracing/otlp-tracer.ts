import { type Context, ROOT_CONTEXT, SpanKind as OtelSpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { SpanKind, Tracer } from "./tracer.ts";

const KINDS: Record<SpanKind, OtelSpanKind> = {
  server: OtelSpanKind.SERVER,
  client: OtelSpanKind.CLIENT,
  internal: OtelSpanKind.INTERNAL,
};

export interface OtlpTracerOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces` as OTLP/HTTP JSON. */
  endpoint: string;
  /** `service.name` of every span. */
  serviceName: string;
  /** How often buffered spans are sent; default 1 s (OpenTelemetry's 5 s hides a short run's spans). */
  exportDelayMs?: number;
  /** Longest a stop waits for the last spans to go out; default 2 s, so an unreachable collector cannot hold up an exit. */
  shutdownTimeoutMs?: number;
}

/** The signal path the OTLP/HTTP spec appends to a base endpoint. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

/**
 * Spans through the OpenTelemetry SDK, batched and sent over OTLP/HTTP. Spans are started by
 * hand with their parent passed explicitly (no context manager, no automatic instrumentation,
 * neither of which works on Bun). The caller's sampled flag is kept (parent-based sampling).
 */
export function otlpTracer({ endpoint, serviceName, exportDelayMs = 1_000, shutdownTimeoutMs = 2_000 }: OtlpTracerOptions): Tracer {
  const exporter = new OTLPTraceExporter({ url: tracesUrl(endpoint), timeoutMillis: shutdownTimeoutMs });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: exportDelayMs, exportTimeoutMillis: shutdownTimeoutMs })],
  });
  const tracer = provider.getTracer(serviceName);
  return {
    startSpan(name, { parent, kind = "internal", attributes } = {}) {
      const parentContext: Context =
        parent === undefined
          ? ROOT_CONTEXT
          : trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true });
      const span = tracer.startSpan(name, { kind: KINDS[kind], attributes }, parentContext);
      const { traceId, spanId, traceFlags } = span.spanContext();
      return {
        context: { traceId, spanId, flags: traceFlags },
        recording: span.isRecording(),
        setAttribute: (key, value) => void span.setAttribute(key, value),
        end(error) {
          if (error !== undefined) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          }
          span.end();
        },
      };
    },
    async shutdown() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const givenUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, shutdownTimeoutMs);
      });
      try {
        // Spans that cannot go out in time are dropped: they never outrank stopping.
        await Promise.race([provider.shutdown().catch(() => {}), givenUp]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

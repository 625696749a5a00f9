import { RandomIds, SAMPLED, type TraceContext } from "./trace-context.ts";

/** OpenTelemetry's span kinds, the ones the services use. */
export type SpanKind = "server" | "client" | "internal";

export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanOptions {
  /** The span this one is a child of (the caller's `traceparent`, or one of our spans); none: a new trace. */
  parent?: TraceContext;
  kind?: SpanKind;
  attributes?: SpanAttributes;
}

/** A span being timed. */
export interface Span {
  /** This span's place in the trace: what goes out as `traceparent` for its children. */
  readonly context: TraceContext;
  /** Whether anything records this span's attributes: false with no exporter, so callers can skip computing them. */
  readonly recording: boolean;
  setAttribute(key: string, value: string | number | boolean): void;
  /** Ends the span; `error` marks it failed (its message is recorded). */
  end(error?: unknown): void;
}

/** Starts spans. The services take one and never know whether spans are exported. */
export interface Tracer {
  startSpan(name: string, options?: SpanOptions): Span;
  /** Sends what is still buffered and stops; nothing after it is exported. */
  shutdown(): Promise<void>;
}

/**
 * A tracer that only hands out ids (no exporter configured): trace context still travels and is
 * logged, and a span costs a random id and nothing else.
 */
export function idOnlyTracer(ids: RandomIds = new RandomIds()): Tracer {
  return {
    startSpan(_name, { parent } = {}) {
      const context: TraceContext = {
        traceId: parent?.traceId ?? ids.traceId(),
        spanId: ids.spanId(),
        flags: parent?.flags ?? SAMPLED,
      };
      return { context, recording: false, setAttribute() {}, end() {} };
    },
    async shutdown() {},
  };
}

/** Runs `fn` inside a span named `name` that ends when `fn` settles (failed if it rejects). */
export async function inSpan<T>(tracer: Tracer, name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, options);
  try {
    const value = await fn(span);
    span.end();
    return value;
  } catch (error) {
    span.end(error);
    throw error;
  }
}

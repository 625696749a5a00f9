import { waitUntil } from "./wait.ts";

/** One span as it arrived, with the `service.name` of its resource. */
export interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client. */
  kind: number;
  /** `status.code` 2 is an error. */
  statusCode: number;
  attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: readonly ReceivedSpan[];
  /** Export requests that were not OTLP/HTTP JSON on `/v1/traces`. */
  readonly rejected: readonly string[];
  /** Waits until `predicate` holds for the spans received so far. */
  until(what: string, predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpJsonAttribute {
  key: string;
  value: OtlpJsonValue;
}
interface OtlpJsonExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpJsonAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        status?: { code?: number };
        attributes?: OtlpJsonAttribute[];
      }[];
    }[];
  }[];
}

const valueOf = (value: OtlpJsonValue): unknown =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.boolValue ?? value.doubleValue;
const attributesOf = (list: OtlpJsonAttribute[] = []): Record<string, unknown> =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/**
 * A minimal OpenTelemetry collector for tests: an OTLP/HTTP server on a free loopback port that
 * decodes the JSON encoding of `ExportTraceServiceRequest` (what @opentelemetry/exporter-trace-otlp-http
 * sends) and keeps every span.
 */
export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const type = request.headers.get("content-type") ?? "";
      if (request.method !== "POST" || path !== "/v1/traces" || !type.startsWith("application/json")) {
        rejected.push(`${request.method} ${path} ${type}`);
        return new Response("unsupported", { status: 415 });
      }
      const body = (await request.json()) as OtlpJsonExport;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service,
              name: span.name,
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              kind: span.kind,
              statusCode: span.status?.code ?? 0,
              attributes: attributesOf(span.attributes),
            });
          }
        }
      }
      return Response.json({});
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    spans,
    rejected,
    async until(what, predicate, timeoutMs = 15_000) {
      await waitUntil(what, async () => predicate(spans) || `${spans.length} spans so far`, { timeoutMs, intervalMs: 50 });
    },
    async close() {
      await server.stop(true);
    },
  };
}

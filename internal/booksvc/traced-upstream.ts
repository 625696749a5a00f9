import { inSpan, type Tracer } from "../tracing/index.ts";
import type { UpstreamClient } from "./upstream.ts";

/**
 * Each upstream attempt in its own client span, a child of the request's span (the `trace` the
 * caller passes), and that new span is what goes upstream as `traceparent`: every attempt, retries
 * included, has its own span id, so storagesvc's spans hang under the attempt that caused them.
 */
export function tracedUpstream(upstream: UpstreamClient, tracer: Tracer): UpstreamClient {
  return {
    fetchBooks(options = {}) {
      return inSpan(tracer, "upstream attempt", { parent: options.trace, kind: "client" }, (span) =>
        upstream.fetchBooks({ ...options, trace: span.context }),
      );
    },
  };
}

import { otlpTracer } from "./otlp-tracer.ts";
import { idOnlyTracer, type Tracer } from "./tracer.ts";

/** OTEL_EXPORTER_OTLP_ENDPOINT set: spans exported over OTLP/HTTP; unset: ids only, no SDK at all. */
export function createTracer(endpoint: string | undefined, serviceName: string): Tracer {
  return endpoint === undefined ? idOnlyTracer() : otlpTracer({ endpoint, serviceName });
}

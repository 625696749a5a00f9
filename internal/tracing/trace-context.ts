/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, parsed and
 * written, and random ids. No OpenTelemetry here: this is all the hot path needs when no exporter
 * is configured.
 */

/** Where a span sits in a trace: what `traceparent` carries. */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** Trace flags; bit 0 is "sampled". */
  readonly flags: number;
}

export const SAMPLED = 0x01;

const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);
// version-traceid-parentid-flags; a future version may append fields after a dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The caller's context from a `traceparent` value, or undefined when absent or invalid (then a
 * new trace starts, as the spec says). Version `ff` and all-zero ids are invalid; version `00`
 * allows nothing after the flags; a higher version is read for its first four fields.
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (header === null || header === undefined) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** The `traceparent` value (version 00) naming `context` as the parent of what it is sent to. */
export function formatTraceparent({ traceId, spanId, flags }: TraceContext): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * Random ids from a block of random bytes filled once per 256 ids, so an id costs a slice and a
 * hex encoding rather than a call into the system's random source.
 */
export class RandomIds {
  private readonly block = Buffer.alloc(4096);
  private offset = this.block.length;

  /** 32 hex digits, never all zero. */
  traceId(): string {
    return this.hex(16, ZERO_TRACE_ID);
  }

  /** 16 hex digits, never all zero. */
  spanId(): string {
    return this.hex(8, ZERO_SPAN_ID);
  }

  private hex(bytes: number, zero: string): string {
    for (;;) {
      if (this.offset + bytes > this.block.length) {
        crypto.getRandomValues(this.block);
        this.offset = 0;
      }
      const id = this.block.toString("hex", this.offset, this.offset + bytes);
      this.offset += bytes;
      if (id !== zero) return id;
    }
  }
}

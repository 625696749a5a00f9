import type { Deadline } from "../deadline.ts";
import type { Outcome, Strategy } from "../strategy.ts";

/** `none`: one attempt; a failure is answered at once (502, or 504 if the deadline cut it). */
export function noneStrategy(): Strategy {
  return {
    name: "none",
    usesCache: false,
    async execute<T>(call: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<Outcome<T>> {
      try {
        return { kind: "fresh", value: await call(deadline.signal) };
      } catch (error) {
        return { kind: "failed", status: deadline.expired() ? 504 : 502, error };
      }
    },
  };
}

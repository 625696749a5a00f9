import { describe, expect, test } from "bun:test";
import { formatTraceparent, parseTraceparent, RandomIds } from "./trace-context.ts";

describe("parseTraceparent", () => {
  test("reads the spec's example", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      flags: 1,
    });
  });

  test("refuses what the spec calls invalid, so a new trace starts", () => {
    for (const bad of [
      null,
      "",
      "garbage",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // version 00 has 4 fields
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace id
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  test("reads the first four fields of a later version", () => {
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes")?.flags).toBe(0);
  });
});

describe("formatTraceparent", () => {
  test("writes version 00 with two-digit flags, and reads back", () => {
    const context = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 };
    expect(formatTraceparent(context)).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
  });
});

describe("RandomIds", () => {
  test("gives ids of the right length, all different, across refills of its block", () => {
    const ids = new RandomIds();
    const traceIds = new Set(Array.from({ length: 600 }, () => ids.traceId()));
    const spanIds = new Set(Array.from({ length: 600 }, () => ids.spanId()));
    expect(traceIds.size).toBe(600);
    expect(spanIds.size).toBe(600);
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spanIds) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

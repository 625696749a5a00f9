import { describe, expect, setDefaultTimeout, setSystemTime, test } from "bun:test";
import { PassThrough } from "node:stream";
import { type ChunkWriter, createLogger, flushLogger, turnBatchedDestination } from "./logger.ts";

setDefaultTimeout(15_000); // the stdout tests start a child bun

function captureLines(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe("createLogger", () => {
  test("writes one JSON object per line with app, level word, ISO time and msg", () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ app: "storagesvc", level: "info", destination: stream });
    logger.info({ request_id: "r1" }, "hello");
    const [line] = lines();
    expect(line).toMatchObject({ app: "storagesvc", level: "info", msg: "hello", request_id: "r1" });
    expect(new Date(String(line?.time)).toISOString()).toBe(String(line?.time));
  });

  test("stamps each line with the time it was logged, also after the clock moved on", () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ app: "booksvc", level: "info", destination: stream });
    const t0 = Date.parse("2030-01-01T00:00:00.000Z");
    try {
      setSystemTime(t0);
      const before = Date.now();
      logger.info("one");
      logger.info("two");
      const middle = Date.now();
      setSystemTime(t0 + 5);
      const after = Date.now();
      logger.info("three");
      const times = lines().map((l) => Date.parse(String(l.time)));
      expect(times[0]).toBeGreaterThanOrEqual(before);
      expect(times[1]).toBeGreaterThanOrEqual(times[0]!);
      expect(times[1]).toBeLessThanOrEqual(middle);
      expect(times[2]).toBeGreaterThanOrEqual(after);
    } finally {
      setSystemTime();
    }
  });

  test("drops lines below the configured level", () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ app: "booksvc", level: "warn", destination: stream });
    logger.info("quiet");
    logger.warn("loud");
    expect(lines().map((l) => l.msg)).toEqual(["loud"]);
  });
});

describe("turnBatchedDestination", () => {
  function recordingWriter(): ChunkWriter & { chunks: string[]; flushes: number } {
    return {
      chunks: [],
      flushes: 0,
      write(chunk: string) {
        this.chunks.push(chunk);
      },
      flush() {
        this.flushes++;
      },
    };
  }

  test("hands over the lines of one event-loop turn as one chunk, at the end of the turn", async () => {
    const writer = recordingWriter();
    const logger = createLogger({ app: "testsvc", level: "info", destination: turnBatchedDestination(writer) });
    logger.info("one");
    logger.info("two");
    logger.info("three");
    expect(writer.chunks).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.chunks).toHaveLength(1);
    expect(writer.chunks[0]!.split("\n").filter(Boolean).map((line) => JSON.parse(line).msg)).toEqual(["one", "two", "three"]);

    logger.info("four");
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.chunks).toHaveLength(2);
    expect(JSON.parse(writer.chunks[1]!).msg).toBe("four");
  });

  test("flushLogger writes what the turn still holds before it resolves", async () => {
    const writer = recordingWriter();
    const logger = createLogger({ app: "testsvc", level: "info", destination: turnBatchedDestination(writer) });
    logger.info("last words");
    await flushLogger(logger);
    expect(writer.chunks.map((chunk) => JSON.parse(chunk).msg)).toEqual(["last words"]);
    expect(writer.flushes).toBe(1);
  });

  test("flushLogger resolves only once the writer has written out what it holds", async () => {
    const writer = recordingWriter();
    let written = (): void => {};
    writer.flush = () => new Promise<void>((resolve) => (written = resolve));
    const logger = createLogger({ app: "testsvc", level: "info", destination: turnBatchedDestination(writer) });
    logger.info("last words");
    let resolved = false;
    const flushed = flushLogger(logger).then(() => (resolved = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    written();
    await flushed;
    expect(resolved).toBe(true);
  });

  test("a child's stdout has every line, in order, once flushLogger resolves", async () => {
    // SIGKILL right after flushLogger leaves no exit handler a chance to write anything.
    const script = `
      import { createLogger, flushLogger } from ${JSON.stringify(`${import.meta.dir}/logger.ts`)};
      const logger = createLogger({ app: "testsvc", level: "info" });
      for (let i = 0; i < 2000; i++) logger.info({ i }, "line");
      await flushLogger(logger);
      process.kill(process.pid, "SIGKILL");
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    const indexes = stdout.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { i: number }).i);
    expect(indexes).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  test("stdout keeps the last turn's lines when the process dies of an uncaught error", async () => {
    const script = `
      import { createLogger } from ${JSON.stringify(`${import.meta.dir}/logger.ts`)};
      createLogger({ app: "testsvc", level: "info" }).info("last words");
      throw new Error("boom");
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).not.toBe(0);
    expect(JSON.parse(stdout.trim()).msg).toBe("last words");
  });
});

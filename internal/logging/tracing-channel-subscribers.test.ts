import { expect, test } from "bun:test";
import diagnosticsChannel from "node:diagnostics_channel";
import { Writable } from "node:stream";
import { createLogger } from "./logger.ts";
import { ensureTracingChannelHasSubscribers } from "./tracing-channel-subscribers.ts";

test("a tracing channel says false without subscribers and true with one", () => {
  ensureTracingChannelHasSubscribers();
  const channel = diagnosticsChannel.tracingChannel("test:has-subscribers");
  expect(channel.hasSubscribers).toBe(false);
  const handlers = { start() {} };
  channel.subscribe(handlers);
  expect(channel.hasSubscribers).toBe(true);
  channel.unsubscribe(handlers);
  expect(channel.hasSubscribers).toBe(false);
});

test("a subscriber to pino's channel still sees each line, and each line is still written", () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ app: "booksvc", level: "info", destination });
  const seen: unknown[] = [];
  const handlers = { start: (message: unknown) => seen.push(message) };
  diagnosticsChannel.tracingChannel("pino_asJson").subscribe(handlers);
  try {
    logger.info({ request_id: "r1" }, "request");
  } finally {
    diagnosticsChannel.tracingChannel("pino_asJson").unsubscribe(handlers);
  }
  logger.info({ request_id: "r2" }, "request");
  expect(seen).toHaveLength(1);
  expect(lines.map((line) => JSON.parse(line).request_id)).toEqual(["r1", "r2"]);
});

import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Hono } from "hono";
import { createLogger } from "../logging/logger.ts";
import { probeHealth } from "./healthcheck.ts";
import { Readiness } from "./readiness.ts";
import { startServer } from "./serve.ts";

const quietLogger = () => createLogger({ app: "testsvc", level: "error", destination: new PassThrough() });

function slowApp(delayMs: number): Hono {
  const app = new Hono();
  app.get("/slow", async (c) => {
    await Bun.sleep(delayMs);
    return c.json({ done: true });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  return app;
}

describe("startServer", () => {
  test("lets an in-flight request finish, then refuses new connections", async () => {
    const readiness = new Readiness();
    const server = startServer({ app: slowApp(300), port: 0, logger: quietLogger(), readiness });
    const inFlight = fetch(`${server.url}/slow`);
    await Bun.sleep(50);
    const stopped = server.stop(5_000);
    expect(readiness.draining).toBe(true);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await stopped;
    await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
  });

  test("closes requests still running when the grace period ends", async () => {
    const server = startServer({ app: slowApp(10_000), port: 0, logger: quietLogger(), readiness: new Readiness() });
    const inFlight = fetch(`${server.url}/slow`).then(
      (response) => response.status,
      () => "closed",
    );
    await Bun.sleep(50);
    const started = performance.now();
    await server.stop(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await inFlight).toBe("closed");
  });
});

describe("probeHealth", () => {
  test("is true while /healthz answers 200 and false once the server is gone", async () => {
    const server = startServer({ app: slowApp(0), port: 0, logger: quietLogger(), readiness: new Readiness() });
    expect(await probeHealth(server.port)).toBe(true);
    await server.stop();
    expect(await probeHealth(server.port, 500)).toBe(false);
  });
});

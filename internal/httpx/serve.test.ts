import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Hono } from "hono";
import { Registry } from "prom-client";
import { RawConnection } from "../../tools/kit/raw-connection.ts";
import { createLogger } from "../logging/logger.ts";
import { probeHealth } from "./healthcheck.ts";
import { Readiness } from "./readiness.ts";
import { startServer } from "./serve.ts";
import { createServiceApp } from "./service-app.ts";

const quietLogger = () => createLogger({ app: "testsvc", level: "error", destination: new PassThrough() });

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** An app whose `/slow` answers once `finish` is called; `arrived` resolves when a request reached it. */
function slowApp() {
  const app = new Hono();
  const arrived = gate();
  const finished = gate();
  app.get("/slow", async (c) => {
    arrived.open();
    await finished.opened;
    return c.json({ done: true });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  return { app, arrived: arrived.opened, finish: finished.open };
}

/** A service app whose `/held` answers only once `release` is called (`heldArrived` resolves on arrival). */
function drainableServer() {
  const readiness = new Readiness();
  const app = createServiceApp({ logger: quietLogger(), registry: new Registry(), readiness });
  const held = gate();
  const arrived = gate();
  app.get("/things", (c) => c.json([1, 2]));
  app.get("/held", async (c) => {
    arrived.open();
    await held.opened;
    return c.json({ held: true });
  });
  const delay = gate();
  const delays: number[] = [];
  const server = startServer({
    fetch: app.fetch,
    port: 0,
    hostname: "127.0.0.1",
    logger: quietLogger(),
    readiness,
    sleep: (ms) => {
      delays.push(ms);
      return delay.opened;
    },
  });
  return { server, readiness, heldArrived: arrived.opened, release: held.open, endDelay: delay.open, delays };
}

describe("startServer", () => {
  test("lets an in-flight request finish, then refuses new connections", async () => {
    const readiness = new Readiness();
    const slow = slowApp();
    const server = startServer({ fetch: slow.app.fetch, port: 0, logger: quietLogger(), readiness });
    const inFlight = fetch(`${server.url}/slow`);
    await slow.arrived;
    const stopped = server.stop({ graceMs: 5_000 });
    expect(readiness.draining).toBe(true);
    slow.finish();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await stopped;
    await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
  });

  test("closes requests still running when the grace period ends", async () => {
    const slow = slowApp(); // never finished
    const server = startServer({ fetch: slow.app.fetch, port: 0, logger: quietLogger(), readiness: new Readiness() });
    const inFlight = fetch(`${server.url}/slow`).then(
      (response) => response.status,
      () => "closed",
    );
    await slow.arrived;
    // Real time on purpose: the grace period is the server's own timer, and what is checked is
    // that it ends a request that would never finish, well within a wide bound.
    const started = performance.now();
    await server.stop({ graceMs: 200 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await inFlight).toBe("closed");
  });

  test("through the shutdown delay: readiness 503, answers carry Connection: close; after it, no new connections", async () => {
    const { server, endDelay, delays } = drainableServer();
    const before = await fetch(`${server.url}/things`);
    expect(before.headers.get("Connection")).not.toBe("close");
    await before.body?.cancel();

    const stopped = server.stop({ delayMs: 500 });
    expect(delays).toEqual([500]);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("Connection")).toBe("close");
    const during = await fetch(`${server.url}/things`);
    expect(during.status).toBe(200);
    expect(during.headers.get("Connection")).toBe("close");
    expect(await during.json()).toEqual([1, 2]);

    endDelay();
    await stopped;
    await expect(fetch(`${server.url}/things`)).rejects.toThrow();
  });

  test("a request in flight when accepting stops is answered with Connection: close, then its connection ends cleanly", async () => {
    const { server, heldArrived, release } = drainableServer();
    const connection = new RawConnection(server.port);
    connection.send(RawConnection.get("/held"));
    await heldArrived;
    const stopped = server.stop(); // no delay: Bun's stop(false) has run when this returns
    release();
    await stopped;
    await connection.until((c) => c.ended !== "open");
    expect(connection.statusLines()).toEqual(["HTTP/1.1 200"]);
    expect(connection.received).toStartWith("HTTP/1.1 200 ");
    expect(connection.received.toLowerCase()).toContain("\r\nconnection: close\r\n");
    expect(connection.ended).toBe("closed");
  });

  test("an idle keep-alive connection is closed with a FIN, not a reset, when accepting stops", async () => {
    const { server, endDelay } = drainableServer();
    const connection = new RawConnection(server.port);
    connection.send(RawConnection.get("/things"));
    await connection.until((c) => c.statusLines().length === 1);
    expect(connection.received.toLowerCase()).not.toContain("connection: close");
    endDelay();
    await server.stop();
    await connection.until((c) => c.ended !== "open");
    expect(connection.ended).toBe("closed");
  });
});

describe("probeHealth", () => {
  test("is true while /healthz answers 200 and false once the server is gone", async () => {
    const server = startServer({ fetch: slowApp().app.fetch, port: 0, logger: quietLogger(), readiness: new Readiness() });
    expect(await probeHealth({ hostname: undefined, port: server.port })).toBe(true);
    await server.stop();
    expect(await probeHealth({ hostname: undefined, port: server.port }, 500)).toBe(false);
  });
});

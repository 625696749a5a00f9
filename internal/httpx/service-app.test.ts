import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Registry } from "prom-client";
import { createLogger } from "../logging/logger.ts";
import { Readiness } from "./readiness.ts";
import { ACCEPTED_REQUEST_ID } from "./request-context.ts";
import { createServiceApp } from "./service-app.ts";

function setup(check?: () => boolean | Promise<boolean>) {
  const stream = new PassThrough();
  let output = "";
  stream.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const logger = createLogger({ app: "testsvc", level: "info", destination: stream });
  const registry = new Registry();
  const readiness = new Readiness(check);
  const app = createServiceApp({ logger, registry, readiness });
  app.get("/things", (c) => c.json([1, 2]));
  let release = (): void => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  app.get("/held", async (c) => {
    await released;
    return c.json({ held: true });
  });
  app.get("/boom", () => {
    throw new Error("secret internal detail");
  });
  const logLines = () =>
    output
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, readiness, logLines, release };
}

describe("createServiceApp", () => {
  test("generates an X-Request-Id when the request has none", async () => {
    const { app } = setup();
    const response = await app.request("/things");
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("echoes the caller's X-Request-Id", async () => {
    const { app } = setup();
    const response = await app.request("/things", { headers: { "X-Request-Id": "abc-123" } });
    expect(response.headers.get("X-Request-Id")).toBe("abc-123");
  });

  test("replaces an X-Request-Id it does not accept (too long, or outside [A-Za-z0-9_=-])", async () => {
    const { app } = setup();
    for (const bad of ["a".repeat(256), "has space", "semi;colon", "ünïcode"]) {
      const response = await app.request("/things", { headers: { "X-Request-Id": bad } });
      expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    const longest = "a".repeat(255);
    const response = await app.request("/things", { headers: { "X-Request-Id": longest } });
    expect(response.headers.get("X-Request-Id")).toBe(longest);
  });

  test("keeps exactly the X-Request-Ids that ACCEPTED_REQUEST_ID (the documented pattern) accepts", async () => {
    const { app } = setup();
    const candidates = ["a", "A-z_0=9", "a".repeat(255), "a".repeat(256), "has space", "semi;colon", "dot.ted", "slash/ed", "ünïcode", "tab\there"];
    for (const candidate of candidates) {
      const response = await app.request("/things", { headers: { "X-Request-Id": candidate } });
      expect({ candidate, kept: response.headers.get("X-Request-Id") === candidate }).toEqual({
        candidate,
        kept: ACCEPTED_REQUEST_ID.test(candidate),
      });
    }
  });

  test("puts the request id on error answers too", async () => {
    const { app } = setup();
    for (const [path, method] of [["/nope", "GET"], ["/things", "POST"], ["/boom", "GET"]] as const) {
      const response = await app.request(path, { method, headers: { "X-Request-Id": "rid-err" } });
      expect(response.headers.get("X-Request-Id")).toBe("rid-err");
    }
  });

  test("answers an unknown path with 404 JSON", async () => {
    const { app } = setup();
    const response = await app.request("/nope");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toStartWith("application/json");
    expect(await response.json()).toEqual({ error: "not found" });
  });

  test("answers a wrong method with 405 JSON and Allow", async () => {
    const { app } = setup();
    const response = await app.request("/things", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(response.headers.get("Content-Type")).toStartWith("application/json");
    expect(await response.json()).toEqual({ error: "method not allowed" });
  });

  test("answers an unexpected error with 500 JSON that hides the detail", async () => {
    const { app, logLines } = setup();
    const response = await app.request("/boom");
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).not.toContain("secret");
    expect(JSON.parse(body)).toEqual({ error: "internal error" });
    expect(logLines().some((line) => line.msg === "unhandled error")).toBe(true);
  });

  test("healthz is 200 even when not ready", async () => {
    const { app } = setup(() => false);
    expect((await app.request("/healthz")).status).toBe(200);
  });

  test("readyz follows the readiness check, a throwing check counting as not ready", async () => {
    let ready = true;
    const { app } = setup(() => {
      if (ready) return true;
      throw new Error("db down");
    });
    expect((await app.request("/readyz")).status).toBe(200);
    ready = false;
    const response = await app.request("/readyz");
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toStartWith("application/json");
  });

  test("readyz turns 503 once draining starts", async () => {
    const { app, readiness } = setup(() => true);
    readiness.startDraining();
    expect((await app.request("/readyz")).status).toBe(503);
  });

  test("once draining, every answer carries Connection: close, one begun before the drain too", async () => {
    const { app, readiness, release } = setup();
    const before = await app.request("/things");
    expect(before.headers.get("Connection")).toBeNull();
    const held = app.request("/held");
    readiness.startDraining();
    release();
    expect((await held).headers.get("Connection")).toBe("close");
    for (const path of ["/things", "/nope", "/readyz", "/healthz", "/metrics"]) {
      expect((await app.request(path)).headers.get("Connection")).toBe("close");
    }
  });

  test("metrics counts requests by route, with unknown paths folded into one label", async () => {
    const { app } = setup();
    await app.request("/things");
    await app.request("/random-1");
    await app.request("/random-2");
    await app.request("/things", { method: "DELETE" });
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain('http_requests_total{method="GET",route="/things",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 2');
    expect(text).toContain('http_requests_total{method="DELETE",route="unmatched",status="405"} 1');
    expect(text).toContain("http_request_duration_seconds_bucket");
  });

  test("logs one line per request with the request id", async () => {
    const { app, logLines } = setup();
    await app.request("/things", { headers: { "X-Request-Id": "rid-1" } });
    const requests = logLines().filter((line) => line.msg === "request");
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ app: "testsvc", level: "info", request_id: "rid-1", status: 200, path: "/things" });
  });
});

import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { Registry } from "prom-client";
import { captureLogger } from "../../tools/kit/capture-logger.ts";
import { idOnlyTracer } from "../tracing/index.ts";
import { createHttpMetrics } from "./http-metrics.ts";
import { pathOf, shedOverload } from "./shed-overload.ts";

/** An app whose `/` requests wait until released, behind shedding in front of `/`. */
function setup(maxInFlight: number, { draining = false } = {}) {
  let shed = 0;
  const waiting: ((outcome: "answer" | "throw") => void)[] = [];
  const app = new Hono();
  app.get("/", async (c) => {
    const outcome = await new Promise<"answer" | "throw">((resolve) => waiting.push(resolve));
    if (outcome === "throw") throw new Error("handler failed");
    return c.json({ done: true });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.onError((_error, c) => c.json({ error: "internal error" }, 500));
  const log = captureLogger({ app: "booksvc" });
  const registry = new Registry();
  const fetch = shedOverload(app.fetch, {
    maxInFlight,
    workPath: "/",
    logger: log.logger,
    httpMetrics: createHttpMetrics(registry),
    tracer: idOnlyTracer(),
    readiness: { draining },
    onShed: () => shed++,
  });
  const request = (path: string, headers: Record<string, string> = {}) => fetch(new Request(`http://booksvc${path}`, { headers }));
  const release = (outcome: "answer" | "throw" = "answer") => {
    for (const resolve of waiting.splice(0)) resolve(outcome);
  };
  return { request, shed: () => shed, waiting, release, lines: log.lines, registry };
}

describe("shedOverload", () => {
  test("beyond maxInFlight, answers 503 with Retry-After: 1 at once, counted and logged like any answer", async () => {
    const { request, shed, waiting, release, lines, registry } = setup(2);
    const admitted = [request("/"), request("/?limit=2")];
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    // Answered synchronously, while the other two still wait: no router, no await.
    const refused = request("/?after=3", { "X-Request-Id": "caller-id-1", traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(refused).toBeInstanceOf(Response);
    const answer = await refused;
    expect(waiting).toHaveLength(2);
    expect(answer.status).toBe(503);
    expect(answer.headers.get("Retry-After")).toBe("1");
    expect(answer.headers.get("Content-Type")).toBe("application/json");
    expect(answer.headers.get("X-Request-Id")).toBe("caller-id-1");
    expect(answer.headers.get("Connection")).toBeNull();
    expect(await answer.json()).toEqual({ error: "overloaded, try again shortly" });
    expect(shed()).toBe(1);
    expect(lines.filter((line) => line.msg === "request")).toEqual([
      expect.objectContaining({ request_id: "caller-id-1", trace_id: traceId, method: "GET", path: "/", status: 503, shed: true }),
    ]);
    expect(await registry.metrics()).toMatch(/^http_requests_total\{method="GET",route="\/",status="503"\} 1$/m);
    release();
    for (const response of await Promise.all(admitted)) expect(response.status).toBe(200);
  });

  test("a refusal without an acceptable X-Request-Id or traceparent gets new ones", async () => {
    const { request, release, lines } = setup(1);
    const held = request("/");
    const answer = await request("/", { "X-Request-Id": "not acceptable: spaces", traceparent: "garbage" });
    expect(answer.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0]).toMatchObject({ request_id: answer.headers.get("X-Request-Id"), trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    release();
    await held;
  });

  test("admits again as soon as a request in flight ends, whether it answered or failed", async () => {
    const { request, waiting, release } = setup(1);
    const first = request("/");
    expect((await request("/")).status).toBe(503);
    release("throw");
    expect((await first).status).toBe(500);
    const second = request("/");
    await Promise.resolve();
    expect(waiting).toHaveLength(1);
    release();
    expect((await second).status).toBe(200);
  });

  test("other paths are neither shed nor counted", async () => {
    const { request, release, shed } = setup(1);
    const held = request("/");
    expect((await request("/healthz")).status).toBe(200);
    expect((await request("/healthz?x=/")).status).toBe(200);
    expect((await request("/nowhere")).status).toBe(404);
    expect(shed()).toBe(0);
    release();
    await held;
  });

  test("while draining, a refusal carries Connection: close", async () => {
    const { request, release } = setup(1, { draining: true });
    const held = request("/");
    expect((await request("/")).headers.get("Connection")).toBe("close");
    release();
    await held;
  });
});

describe("shedOverload with a tracer that records", () => {
  test("a refusal ends a server span under the caller's, with the route and 503 as attributes, failed", async () => {
    const attributes: Record<string, unknown> = {};
    let ended: unknown = "not ended";
    let parentSpanId: string | undefined;
    const inner = idOnlyTracer();
    const tracer = {
      startSpan(name: string, options: Parameters<typeof inner.startSpan>[1] = {}) {
        parentSpanId = options.parent?.spanId;
        const span = inner.startSpan(name, options);
        return { ...span, recording: true, setAttribute: (key: string, value: unknown) => void (attributes[key] = value), end: (error?: unknown) => void (ended = error) };
      },
      shutdown: () => inner.shutdown(),
    };
    let release = () => {};
    const fetch = shedOverload(() => new Promise<Response>((resolve) => (release = () => resolve(new Response("{}")))), {
      maxInFlight: 1,
      workPath: "/",
      logger: captureLogger({ app: "booksvc" }).logger,
      httpMetrics: createHttpMetrics(new Registry()),
      tracer,
      readiness: { draining: false },
    });
    const held = fetch(new Request("http://booksvc/"));
    const refused = await fetch(new Request("http://booksvc/", { headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } }));
    expect(refused.status).toBe(503);
    expect(parentSpanId).toBe("00f067aa0ba902b7");
    expect(attributes).toEqual({ "http.request.method": "GET", "http.route": "/", "http.response.status_code": 503 });
    expect(ended).toBe("answered 503");
    release();
    await held;
  });
});

describe("pathOf", () => {
  test.each([
    ["http://booksvc/", "/"],
    ["http://booksvc:8081/?limit=2", "/"],
    ["http://booksvc:8081/healthz", "/healthz"],
    ["http://booksvc/healthz?next=/", "/healthz"],
    ["http://booksvc/a#frag", "/a"],
    ["http://booksvc", "/"],
    ["/readyz", "/readyz"],
    ["/healthz?next=http://x/", "/healthz"],
    ["http://[::1]:8081/metrics?x", "/metrics"],
  ])("%s → %s", (url, path) => {
    expect(pathOf(url)).toBe(path);
  });
});

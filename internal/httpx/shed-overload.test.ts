import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { shedOverload } from "./shed-overload.ts";

/** An app whose `/work` requests wait until released, behind the shedding middleware. */
function setup(maxInFlight: number) {
  let shed = 0;
  const waiting: (() => void)[] = [];
  const app = new Hono();
  app.use("/work", shedOverload({ maxInFlight, onShed: () => shed++ }));
  app.get("/work", async (c) => {
    await new Promise<void>((resolve) => waiting.push(resolve));
    return c.json({ done: true });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const releaseAll = () => {
    for (const release of waiting.splice(0)) release();
  };
  return { app, shed: () => shed, waiting, releaseAll };
}

describe("shedOverload", () => {
  test("beyond maxInFlight, answers 503 with Retry-After: 1 at once and counts it", async () => {
    const { app, shed, waiting, releaseAll } = setup(2);
    const admitted = [app.request("/work"), app.request("/work")];
    const refused = await app.request("/work"); // answered while the other two still wait
    expect(waiting).toHaveLength(2);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect(await refused.json()).toEqual({ error: "overloaded, try again shortly" });
    expect(shed()).toBe(1);
    releaseAll();
    for (const response of await Promise.all(admitted)) expect(response.status).toBe(200);
  });

  test("admits again as soon as a request in flight ends", async () => {
    const { app, waiting, releaseAll } = setup(1);
    const first = app.request("/work");
    expect((await app.request("/work")).status).toBe(503);
    releaseAll();
    await first;
    const second = app.request("/work");
    await Promise.resolve();
    expect(waiting).toHaveLength(1);
    releaseAll();
    expect((await second).status).toBe(200);
  });

  test("routes it is not mounted on are never shed", async () => {
    const { app, releaseAll } = setup(1);
    const held = app.request("/work");
    expect((await app.request("/healthz")).status).toBe(200);
    releaseAll();
    await held;
  });
});

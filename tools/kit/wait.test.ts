import { describe, expect, test } from "bun:test";
import { waitForHttp, waitUntil } from "./wait.ts";

describe("waitUntil", () => {
  test("returns once the probe says done, after the states it reported", async () => {
    const states = ["starting", "still starting"];
    let calls = 0;
    const ms = await waitUntil("never", async () => states[calls++] ?? true, { timeoutMs: 2_000, intervalMs: 1 });
    expect(calls).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(0);
  });

  test("gives up after the timeout naming what it waited for and the last state seen", async () => {
    await expect(
      waitUntil("booksvc-2 is not UP", async () => "DOWN (L4CON)", { timeoutMs: 50, intervalMs: 5 }),
    ).rejects.toThrow("booksvc-2 is not UP within 50 ms (last: DOWN (L4CON))");
  });

  test("a thrown probe error is a state, not the end", async () => {
    let calls = 0;
    await waitUntil(
      "x",
      async () => {
        calls++;
        if (calls < 3) throw new Error("ECONNREFUSED");
        return true;
      },
      { timeoutMs: 2_000, intervalMs: 1 },
    );
    expect(calls).toBe(3);
  });
});

describe("waitForHttp", () => {
  test("waits for the asked status and says which one it last saw", async () => {
    let status = 503;
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("", { status }) });
    try {
      const url = `http://127.0.0.1:${server.port}/readyz`;
      await expect(waitForHttp(url, { timeoutMs: 100, intervalMs: 10 })).rejects.toThrow(`${url} did not answer 200 within 100 ms (last: status 503)`);
      status = 200;
      await waitForHttp(url, { timeoutMs: 2_000, intervalMs: 10 });
    } finally {
      await server.stop(true);
    }
  });
});

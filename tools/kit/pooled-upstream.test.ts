import { describe, expect, test } from "bun:test";
import { DEFAULT_BOOKS } from "./fake-upstream.ts";
import { startPooledUpstream } from "./pooled-upstream.ts";

describe("pooled upstream", () => {
  test("serves `slots` requests at once, the rest wait their turn, and every one gets the books", async () => {
    const upstream = startPooledUpstream({ slots: 2, serviceMs: 100 });
    try {
      expect(upstream.capacityPerS).toBe(20);
      const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(upstream.url).then((r) => r.json())));
      expect(answers).toEqual(Array.from({ length: 6 }, () => DEFAULT_BOOKS));
      expect(upstream.answered).toBe(6);
      expect(upstream.maxWaiting).toBe(4);
    } finally {
      await upstream.close();
    }
  });
});

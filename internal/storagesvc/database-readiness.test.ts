import { describe, expect, test } from "bun:test";
import { DatabaseUnavailableError } from "./database-error.ts";
import { databaseReadiness } from "./database-readiness.ts";

describe("databaseReadiness", () => {
  test("is not ready while the schema is not, without pinging", async () => {
    let pings = 0;
    const ready = databaseReadiness({ ping: async () => void pings++ }, { ready: false });
    expect(await ready()).toBe(false);
    expect(pings).toBe(0);
  });

  test("is ready when the schema is and the database answers", async () => {
    expect(await databaseReadiness({ ping: async () => {} }, { ready: true })()).toBe(true);
  });

  test("is not ready when the ping fails", async () => {
    const ping = () => Promise.reject(new DatabaseUnavailableError("ping failed"));
    expect(await databaseReadiness({ ping }, { ready: true })()).toBe(false);
  });

  test("is not ready when the ping does not answer within the timeout", async () => {
    const ping = () => new Promise<void>(() => {});
    const started = performance.now();
    expect(await databaseReadiness({ ping }, { ready: true }, 50)()).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

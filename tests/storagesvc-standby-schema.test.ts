import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { migrateBooksTable } from "../internal/storagesvc/books-table-migration.ts";
import { streamingPairForFile } from "../tools/kit/streaming-pair-for-file.ts";
import { runScript } from "../tools/kit/run-script.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// The migration never runs DDL on a standby (`pg_is_in_recovery()`): storagesvc with
// DB_MIGRATE=auto on a standby without the table waits for it to arrive from the primary, and
// `storagesvc migrate` pointed at a standby says so instead of failing on the DDL or waiting.
// Real clusters: a primary and its hot standby; the table does not exist until a test creates it.

setDefaultTimeout(90_000);

const topology = streamingPairForFile();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("storagesvc on a standby without the books table", () => {
  test("`storagesvc migrate` on the standby exits 1 naming it; with only a standby behind target_session_attrs=primary, within its time limit", async () => {
    const { pair } = topology;
    const standby = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: pair.standby.url() });
    expect(standby.code).toBe(1);
    expect(standby.stderr).toStartWith("storagesvc migrate: the database is a standby (pg_is_in_recovery())");

    // With several hosts and none a primary, postgres.js keeps looking for ever; the attempt's time
    // limit ends the wait.
    const noPrimary = `postgres://postgres@127.0.0.1:${pair.standby.port},127.0.0.1:${pair.standby.port}/postgres?target_session_attrs=primary`;
    const waited = await runScript("cmd/storagesvc/main.ts", ["migrate"], { DATABASE_URL: noPrimary });
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain("no answer within 10000 ms");
  });

  test("DB_MIGRATE=auto: not ready and no DDL on the standby; ready without a restart once the primary's table is replayed", async () => {
    const { pair } = topology;
    const service = await startStoragesvcProcess(pair.standby.url(), (stop) => cleanups.push(stop), { DB_MIGRATE: "auto", LOG_LEVEL: "info" });
    const waiting = await service.waitForLog((line) => String(line.msg).startsWith("the database is a standby without the books table"));
    expect(waiting.level).toBe("warn");
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);

    const owner = postgres(pair.primary.url(), { max: 1, onnotice: () => {} });
    try {
      expect(await migrateBooksTable(owner)).toBe("created");
    } finally {
      await owner.end({ timeout: 1 });
    }
    await pair.waitUntilReplayed();
    await service.waitFor("/readyz", 200, 5_000);
    const books = (await (await fetch(`${service.url}/books`)).json()) as { title: string }[];
    expect(books.map((book) => book.title)).toEqual(["One book", "Second book"]);
    expect(service.logs.find((line) => line.msg === "books schema ready")).toMatchObject({ table: "present" });
    // Nothing was attempted on the standby that it refused.
    expect(service.logs.filter((line) => line.msg === "database not ready; retrying")).toEqual([]);
  });
});

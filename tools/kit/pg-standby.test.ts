import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import postgres from "postgres";
import { StreamingPair } from "./pg-standby.ts";

// Two initdb/pg_basebackup runs on a busy machine.
setDefaultTimeout(90_000);

describe("StreamingPair", () => {
  let pair: StreamingPair | undefined;
  afterAll(async () => {
    await pair?.destroy();
  });

  test("the standby replays the primary's writes, refuses its own until promoted, and nothing is left behind", async () => {
    pair = await StreamingPair.start();
    expect(pair.url("crud")).toBe(
      `postgres://postgres@127.0.0.1:${pair.primary.port},127.0.0.1:${pair.standby.port}/crud?target_session_attrs=primary`,
    );
    const primary = postgres(pair.primary.url(), { max: 1, onnotice: () => {} });
    const standby = postgres(pair.standby.url(), { max: 1, onnotice: () => {} });
    try {
      await primary`create table marks (n int)`;
      await primary`insert into marks values (1)`;
      await pair.waitUntilReplayed();
      expect([...(await standby`select n from marks`)]).toEqual([{ n: 1 }]);
      expect([...(await standby`select pg_is_in_recovery() as recovering`)]).toEqual([{ recovering: true }]);
      await expect(standby`insert into marks values (2)`).rejects.toMatchObject({ code: "25006" }); // read_only_sql_transaction

      await pair.primary.stop("immediate");
      await pair.standby.promote();
      await standby`insert into marks values (2)`;
      expect([...(await standby`select n from marks order by n`)]).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await Promise.all([primary.end({ timeout: 1 }), standby.end({ timeout: 1 })]);
    }
    const dirs = [pair.primary.dir, pair.standby.dir];
    await pair.destroy();
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

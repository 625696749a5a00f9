import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import postgres from "postgres";
import { PgCluster } from "./pg-cluster.ts";

// initdb alone takes several seconds on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(60_000);

describe("PgCluster", () => {
  let cluster: PgCluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  test("answers queries once started, refuses connections when stopped, keeps its data and port across a restart, and leaves nothing behind", async () => {
    cluster = await PgCluster.create();
    const sql = postgres(cluster.url(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await expect(sql`select 1`).rejects.toMatchObject({ code: "ECONNREFUSED" });

      await cluster.start();
      await sql`create table marks (n int)`;
      await sql`insert into marks values (1)`;

      await cluster.stop();
      await expect(sql`select n from marks`).rejects.toBeDefined();

      await cluster.start();
      expect([...(await sql`select n from marks`)]).toEqual([{ n: 1 }]);
    } finally {
      await sql.end({ timeout: 1 });
    }

    const dir = cluster.dir;
    await cluster.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(cluster.running).toBe(false);
  });
});

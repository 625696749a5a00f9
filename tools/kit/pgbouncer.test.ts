import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import postgres from "postgres";
import { PgCluster } from "./pg-cluster.ts";
import { startThrowawayPgBouncer } from "./pgbouncer.ts";

setDefaultTimeout(60_000);

test("a throwaway PgBouncer pools a cluster in transaction mode: client connections share its few server sessions; close removes its files", async () => {
  const cluster = await PgCluster.create();
  try {
    await cluster.start();
    const bouncer = await startThrowawayPgBouncer({ serverPort: cluster.port, poolMode: "transaction", poolSize: 2 });
    const sql = postgres(bouncer.url("postgres", { query: "prepare=false" }), { max: 8, onnotice: () => {} });
    try {
      const backends = await Promise.all(
        Array.from({ length: 32 }, async () => (await sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.01)`)[0]?.pid),
      );
      // 8 client connections, but never more than the pool's 2 server sessions.
      expect(new Set(backends).size).toBeLessThanOrEqual(2);
      expect(await Bun.file(bouncer.iniFile).text()).toContain("pool_mode = transaction");
    } finally {
      await sql.end({ timeout: 1 });
      await bouncer.close();
    }
    expect(existsSync(dirname(bouncer.iniFile))).toBe(false);
  } finally {
    await cluster.destroy();
  }
});

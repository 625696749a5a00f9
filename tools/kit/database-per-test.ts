import { afterEach, beforeEach } from "bun:test";
import postgres, { type Sql } from "postgres";
import { connectDatabase } from "../../internal/storagesvc/database.ts";
import { createFreshDatabase, type FreshDatabase, SHARED_POSTGRES_URL } from "./postgres.ts";

/**
 * Call inside a `describe`: each of its tests gets a fresh database (created before it, dropped
 * after it) and `pool(max)` opens storagesvc's own kind of pool on it, closed after the test.
 */
export function databasePerTest(prefix: string): {
  readonly database: FreshDatabase;
  pool(max?: number): Sql;
  /** `ALTER DATABASE <this test's database> <clause>`, e.g. `set default_transaction_read_only = on`. */
  alterDatabase(clause: string): Promise<void>;
} {
  let current: FreshDatabase | undefined;
  const pools: Sql[] = [];
  beforeEach(async () => {
    current = await createFreshDatabase(prefix);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((sql) => sql.end({ timeout: 1 })));
    await current?.drop();
    current = undefined;
  });
  const database = (): FreshDatabase => {
    if (current === undefined) throw new Error("databasePerTest: no database outside a test");
    return current;
  };
  return {
    get database() {
      return database();
    },
    pool(max = 4) {
      const sql = connectDatabase({ url: database().url, poolMax: max });
      pools.push(sql);
      return sql;
    },
    async alterDatabase(clause) {
      const admin = postgres(SHARED_POSTGRES_URL, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`alter database "${database().name}" ${clause}`);
      } finally {
        await admin.end();
      }
    },
  };
}

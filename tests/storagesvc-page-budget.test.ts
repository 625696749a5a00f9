import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import postgres, { type Sql } from "postgres";
import { DEFAULT_PAGE_MAX_BYTES } from "../internal/storagesvc/config.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { createEmptyBooksTable } from "../tools/kit/seed-books.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// storagesvc's byte budget (PAGE_MAX_BYTES, default 512 KiB) with the real process over rows of
// 100 KB: a page ends before the book that would pass it, Link follows it, and the memory a
// request takes is bounded by the budget, not by `limit` × the rows.

setDefaultTimeout(120_000);

const ROWS = 1_200;
const DESC_BYTES = 102_400;
/** The target: 4 concurrent `?limit=1000` requests within 64 MB of idle RSS. */
const RSS_HEADROOM_BYTES = 64 * 1024 * 1024;

let database: FreshDatabase;
let sql: Sql;
let service: ServiceProcess;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  database = await createFreshDatabase("bookstore_budget");
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  await createEmptyBooksTable(sql);
  // 100 KB per book; each `limit=1000` page holds 100 MB of them.
  await sql`
    insert into books (title, author, "desc")
    select 'Book ' || n, 'Author', repeat(md5(n::text), ${DESC_BYTES / 32}::int) from generate_series(1, ${ROWS}::int) as n`;
  service = await startStoragesvcProcess(database.url, (stop) => stops.push(stop), { DB_POOL_MAX: "4", LOG_LEVEL: "warn" });
  await service.waitFor("/readyz", 200);
});

afterAll(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await sql.end({ timeout: 1 });
  await database.drop();
});

/** One of the process's memory figures from /proc, in bytes: `VmRSS` now, `VmHWM` its peak so far. */
function memoryOf(pid: number, field: "VmRSS" | "VmHWM"): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

async function page(path: string): Promise<{ status: number; bytes: number; ids: number[]; link: string | null }> {
  const response = await fetch(service.url + path);
  const body = await response.text();
  const ids = (JSON.parse(body) as { id: number }[]).map((book) => book.id);
  return { status: response.status, bytes: Buffer.byteLength(body), ids, link: response.headers.get("link") };
}

describe("storagesvc's byte budget over 100 KB rows", () => {
  test("4 concurrent ?limit=1000 requests, 5 rounds: peak RSS within 64 MB of idle", async () => {
    // First in this file: the peak (VmHWM) counts from the start of the process.
    await page("/books?limit=1000"); // warm: prepared statements, JIT
    const idle = memoryOf(service.pid, "VmRSS");
    for (let round = 0; round < 5; round++) {
      const pages = await Promise.all(Array.from({ length: 4 }, (_, i) => page(`/books?limit=1000&after=${round * 200 + i * 50}`)));
      for (const answer of pages) expect(answer.status).toBe(200);
    }
    const peak = memoryOf(service.pid, "VmHWM");
    console.log(`storagesvc RSS idle ${(idle / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB (+${((peak - idle) / 2 ** 20).toFixed(1)} MiB)`);
    expect(peak - idle).toBeLessThan(RSS_HEADROOM_BYTES);
  });
  test("?limit=1000 ends before the book that would pass PAGE_MAX_BYTES, and Link points after the last book sent", async () => {
    const first = await page("/books?limit=1000");
    expect(first.status).toBe(200);
    expect(first.bytes).toBeLessThanOrEqual(DEFAULT_PAGE_MAX_BYTES);
    // 5 books of 102,4xx bytes fit in 524,288; a sixth would not.
    expect(first.ids).toEqual([1, 2, 3, 4, 5]);
    expect(first.link).toBe('</books?limit=1000&after=5>; rel="next"');
  });

  test("following Link covers every book exactly once, in order, each page within the budget", async () => {
    const seen: number[] = [];
    for (let next: string | undefined = "/books?limit=1000"; next !== undefined; ) {
      const current = await page(next);
      expect(current.status).toBe(200);
      expect(current.bytes).toBeLessThanOrEqual(DEFAULT_PAGE_MAX_BYTES);
      seen.push(...current.ids);
      next = current.link === null ? undefined : /^<([^>]+)>/.exec(current.link)?.[1];
    }
    expect(seen).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  });

});

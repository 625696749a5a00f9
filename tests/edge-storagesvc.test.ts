import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { createFreshDatabase } from "../tools/kit/postgres.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// storagesvc's `/books` revalidates like booksvc's `/`: a strong ETag of the body, 304 for a match.

setDefaultTimeout(60_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("GET /books carries a strong ETag; If-None-Match with it is 304 without a body, until the books change", async () => {
  const database = await createFreshDatabase("edge_storagesvc");
  cleanups.push(() => database.drop());
  const storagesvc = await startStoragesvcProcess(database.url, (stop) => cleanups.push(stop), { DB_POOL_MAX: "2" });
  await storagesvc.waitFor("/readyz", 200, 20_000);

  const first = await fetch(`${storagesvc.url}/books`);
  expect(first.status).toBe(200);
  const etag = first.headers.get("ETag");
  expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
  expect(await first.json()).toHaveLength(2);

  const same = await fetch(`${storagesvc.url}/books`, { headers: { "If-None-Match": etag! } });
  expect(same.status).toBe(304);
  expect(await same.text()).toBe("");
  expect(same.headers.get("ETag")).toBe(etag);

  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end());
  await sql`insert into books (title, author) values ('Third book', 'Jim Doe')`;
  const changed = await fetch(`${storagesvc.url}/books`, { headers: { "If-None-Match": etag! } });
  expect(changed.status).toBe(200);
  expect(changed.headers.get("ETag")).not.toBe(etag);
  expect(await changed.json()).toHaveLength(3);
});

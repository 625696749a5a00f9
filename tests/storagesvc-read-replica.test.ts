import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { StreamingPair } from "../tools/kit/pg-standby.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";
import { waitUntil } from "../tools/kit/wait.ts";

// storagesvc serving from a hot standby (a read replica), with real clusters: the table and its
// books come from the primary by streaming replication; storagesvc never writes to the standby.
setDefaultTimeout(90_000);

let pair: StreamingPair;
beforeAll(async () => {
  pair = await StreamingPair.start();
  const owner = postgres(pair.primary.url(), { max: 1, onnotice: () => {} });
  try {
    await owner`create table books (id serial primary key, title text not null, author text not null, "desc" text not null default '')`;
    await owner`insert into books (title, author) values ('One book', 'John Doe'), ('Second book', 'Jane Doe')`;
  } finally {
    await owner.end({ timeout: 1 });
  }
  await pair.waitUntilReplayed();
});
afterAll(async () => {
  await pair.destroy();
});
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const titles = async (url: string) => ((await (await fetch(url)).json()) as Array<{ title: string }>).map((b) => b.title);

describe("storagesvc on a hot standby", () => {
  for (const mode of ["off", "auto"] as const) {
    test(`DB_MIGRATE=${mode}: ready, serves the primary's books, follows its writes`, async () => {
      const service = await startStoragesvcProcess(pair.standby.url(), (s) => cleanups.push(s), { DB_MIGRATE: mode, LOG_LEVEL: "error" });
      await service.waitFor("/readyz", 200, 20_000);
      expect((await titles(`${service.url}/books`)).slice(0, 2)).toEqual(["One book", "Second book"]);

      const owner = postgres(pair.primary.url(), { max: 1, onnotice: () => {} });
      try {
        await owner`insert into books (title, author) values (${`Third book (${mode})`}, 'Ann Doe')`;
      } finally {
        await owner.end({ timeout: 1 });
      }
      await waitUntil(
        "the replica's storagesvc did not serve the book added on the primary",
        async () => (await titles(`${service.url}/books`)).includes(`Third book (${mode})`) || "not replayed yet",
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      // Nothing was written on the standby: it would have refused it, and storagesvc logged no error.
      expect(service.logs.filter((line) => line.level === "error" || line.level === "fatal")).toEqual([]);
    });
  }
});

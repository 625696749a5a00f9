import { expect, test } from "bun:test";
import { parseRecord, type RequestRecord, runLoad } from "./load-worker.ts";

async function recordsFrom(recordHeader: string | undefined): Promise<RequestRecord[]> {
  let n = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () =>
      Response.json([{ id: 1, title: "One book", author: "John Doe", desc: "" }], {
        headers: { "X-Served-By": `booksvc-${(n++ % 2) + 1}`, "Cache-Status": "booksvc; fwd=miss" },
      }),
  });
  const stop = new AbortController();
  let text = "";
  try {
    const load = runLoad(
      { targets: [{ name: "front", url: `http://127.0.0.1:${server.port}/` }], concurrency: 2, thinkMs: 5, timeoutMs: 1_000, ...(recordHeader ? { recordHeader } : {}) },
      stop.signal,
      async (chunk) => {
        text += chunk;
      },
    );
    while (n < 10) await Bun.sleep(5);
    stop.abort();
    await load;
  } finally {
    await server.stop(true);
  }
  return text.trim().split("\n").map((line) => {
    const record = parseRecord(line);
    if (!record) throw new Error(`unparsable line: ${line}`);
    return record;
  });
}

test("records the asked response header with each request: which replica answered", async () => {
  const records = await recordsFrom("x-served-by");
  expect(records.length).toBeGreaterThan(0);
  expect(new Set(records.map((r) => r.header))).toEqual(new Set(["booksvc-1", "booksvc-2"]));
  expect(records.every((r) => r.target === "front" && r.outcome === "200" && r.books && r.fresh)).toBe(true);
});

test("without a header to record, lines keep their six columns", async () => {
  const records = await recordsFrom(undefined);
  expect(records.length).toBeGreaterThan(0);
  expect(records.every((r) => r.header === undefined)).toBe(true);
});

test("a line that is not a record is not parsed as one", () => {
  expect(parseRecord("listening on 8081")).toBeUndefined();
  expect(parseRecord("a,1,2,200,1,1,x,y")).toBeUndefined();
});

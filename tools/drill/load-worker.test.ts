import { expect, setDefaultTimeout, test } from "bun:test";
import { waitUntil } from "../kit/wait.ts";
import { type LoadShape, parseRecord, type RequestRecord, runLoad, startLoadWorker } from "./load-worker.ts";

setDefaultTimeout(20_000);

function parseAll(text: string): RequestRecord[] {
  return text.trim().split("\n").map((line) => {
    const record = parseRecord(line);
    if (!record) throw new Error(`unparsable line: ${line}`);
    return record;
  });
}

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
      { targets: [{ name: "front", url: `http://127.0.0.1:${server.port}/` }], load: { rate: 200 }, timeoutMs: 1_000, ...(recordHeader ? { recordHeader } : {}) },
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
  return parseAll(text);
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

/**
 * Loads a server whose answers are 500 ms late for 500 ms, from 300 ms after its first request, with
 * a worker process as the drills start it; the records of the requests meant to leave in the
 * first 1.5 s.
 */
async function recordsThroughStall(load: LoadShape): Promise<RequestRecord[]> {
  let stall: { from: number; until: number } | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch() {
      const now = performance.now();
      stall ??= { from: now + 300, until: now + 800 };
      if (now >= stall.from && now < stall.until) await Bun.sleep(500);
      return Response.json([{ id: 1, title: "One book", author: "John Doe", desc: "" }]);
    },
  });
  const records: RequestRecord[] = [];
  const firstSecondAndAHalf = (): RequestRecord[] => {
    const first = Math.min(...records.map((r) => r.startedAt));
    return records.filter((r) => r.startedAt < first + 1_500);
  };
  const worker = startLoadWorker("stall", { targets: [{ name: "t", url: `http://127.0.0.1:${server.port}/` }], load, timeoutMs: 5_000 }, (r) => records.push(r));
  try {
    // Until every request meant for the first 1.5 s is answered: the last ones 2 s after the first.
    const wanted = "rate" in load ? Math.floor(1.5 * load.rate) : 100;
    const gotThem = () => records.length > 0 && firstSecondAndAHalf().length >= wanted && Date.now() - Math.min(...records.map((r) => r.startedAt)) > 2_000;
    await waitUntil("the requests of the first 1.5 s", async () => gotThem() || `${records.length} records`, { timeoutMs: 10_000, intervalMs: 50 });
  } finally {
    await worker.stop(5_000);
    await server.stop(true);
  }
  return firstSecondAndAHalf();
}

test("open loop at 1,000 req/s counts a 500 ms stall once for every request it held up: >= 400 of them >= 400 ms", async () => {
  const records = await recordsThroughStall({ rate: 1_000 });
  expect(records.length).toBeGreaterThanOrEqual(1_400);
  expect(records.every((r) => r.outcome === "200")).toBe(true);
  expect(records.filter((r) => r.latencyMs >= 400).length).toBeGreaterThanOrEqual(400);
  // startedAt is when each was meant to leave: a fixed schedule, about 1 ms apart, stall or not.
  const starts = records.map((r) => r.startedAt).sort((a, b) => a - b);
  expect(starts.at(-1)! - starts[0]!).toBeLessThan(1_520);
});

test("closed loop records the same stall about once per client", async () => {
  const records = await recordsThroughStall({ closedLoopClients: 16, thinkMs: 0 });
  const slow = records.filter((r) => r.latencyMs >= 400).length;
  expect(slow).toBeGreaterThanOrEqual(8);
  expect(slow).toBeLessThanOrEqual(32);
});

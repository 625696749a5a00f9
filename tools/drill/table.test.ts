import { expect, test } from "bun:test";
import { renderTable } from "./table.ts";

test("the table has a column per error status that occurred and says when fresh data never came", () => {
  const text = renderTable({
    name: "database-down",
    title: "database down for 20 s, then back",
    faultMs: 20_000,
    rows: [
      { strategy: "none", requests: 10, booksPct: 0, errorsPct: { "502": 100 }, timeoutsPct: 0, p50Ms: 1.5, p99Ms: 3, maxMs: 4, freshAfterMs: 12 },
      { strategy: "retry", requests: 2, booksPct: 0, errorsPct: { "504": 100 }, timeoutsPct: 0, p50Ms: 10_000, p99Ms: 10_000, maxMs: 10_001, freshAfterMs: null },
    ],
  });
  const lines = text.split("\n");
  expect(lines[0]).toBe("database down for 20 s, then back");
  expect(lines[1]).toMatch(/^strategy\s+requests\s+books\s+502\s+504\s+timeouts\s+p50\s+p99\s+max\s+fresh after$/);
  expect(lines[3]).toMatch(/^none\s+10\s+0\s+100 %\s+0\s+0\s+1\.5 ms/);
  expect(lines[4]).toMatch(/10\.0 s\s+not yet$/);
});

test("the first column can be headed for what a row is", () => {
  const text = renderTable(
    {
      name: "rolling-restart-booksvc",
      title: "rolling restart of booksvc",
      faultMs: 5_000,
      rows: [{ strategy: "all clients", requests: 3, booksPct: 100, errorsPct: {}, timeoutsPct: 0, p50Ms: 1, p99Ms: 2, maxMs: 2, freshAfterMs: 0 }],
    },
    { rowLabel: "answered by" },
  );
  expect(text.split("\n")[1]).toMatch(/^answered by\s+requests\s+books\s+timeouts/);
});

test("with first-second counts, the table shows the requests and the upstream calls they cost", () => {
  const row = { requests: 10, booksPct: 100, errorsPct: {}, timeoutsPct: 0, p50Ms: 1, p99Ms: 2, maxMs: 3, freshAfterMs: 5 };
  const text = renderTable({
    name: "database-down",
    title: "database down",
    faultMs: 1_000,
    rows: [{ strategy: "none", ...row, requestsFirstSecond: 600, upstreamCallsFirstSecond: 40 }],
  });
  expect(text.split("\n")[1]).toEndWith("1st s: requests / upstream calls");
  expect(text.split("\n")[3]).toEndWith("600 / 40");
});

import { expect, test } from "bun:test";
import { parseShowStat } from "./haproxy-stats.ts";

// The first columns of HAProxy 2.6's `show stat` header, as it prints them, and rows in that layout.
const HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,";

function row(cells: Record<number, string>): string {
  const columns = HEADER.slice(2).split(",");
  return columns.map((_, i) => cells[i] ?? "").join(",");
}

test("reads each row's proxy, name, state, last check and the retry and error counters", () => {
  const csv = [
    HEADER,
    // pxname 0, svname 1, econ 13, eresp 14, wretr 15, wredis 16, status 17, check_status 36, hrsp_5xx 43
    row({ 0: "books", 1: "FRONTEND", 17: "OPEN" }),
    row({ 0: "books", 1: "booksvc-1", 13: "2", 14: "1", 15: "0", 16: "7", 17: "UP", 36: "L7OK", 43: "3" }),
    row({ 0: "books", 1: "booksvc-2", 17: "DOWN", 36: "L4CON" }),
    row({ 0: "books", 1: "BACKEND", 13: "2", 14: "1", 15: "1", 16: "7", 17: "UP", 43: "3" }),
    "",
  ].join("\n");
  const rows = parseShowStat(csv);
  expect(rows.map((r) => `${r.proxy}/${r.name} ${r.status} ${r.checkStatus}`)).toEqual([
    "books/FRONTEND OPEN ",
    "books/booksvc-1 UP L7OK",
    "books/booksvc-2 DOWN L4CON",
    "books/BACKEND UP ",
  ]);
  expect(rows[3]).toEqual({
    proxy: "books",
    name: "BACKEND",
    status: "UP",
    checkStatus: "",
    retries: 1,
    redispatches: 7,
    connectionErrors: 2,
    responseErrors: 1,
    answers5xx: 3,
  });
});

test("an answer that is not show stat's is an error, not an empty list", () => {
  expect(() => parseShowStat("Unknown command: 'show stats'\n")).toThrow("not a show stat answer");
});

import { expect, test } from "bun:test";
import { PageProber } from "./page-prober.ts";

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(maxPages = 10) {
  let clock = 0;
  const calls: Array<{ key: string; done: ReturnType<typeof deferred> }> = [];
  const prober = new PageProber({ maxPages, now: () => clock });
  const probe = (key: string) => () => {
    const done = deferred();
    calls.push({ key, done });
    return done.promise;
  };
  const request = (key: string) => prober.request(key, probe(key));
  return { prober, request, calls, advance: (ms: number) => (clock += ms) };
}

test("many requests for a page make one probe while it is in flight", () => {
  const { request, calls } = setup();
  expect(request("a")).toBe(true);
  for (let i = 0; i < 100; i++) expect(request("a")).toBe(false);
  expect(calls.map((c) => c.key)).toEqual(["a"]);
});

test("a page is probed at most once a second, however fast its probes fail", async () => {
  const { prober, request, calls, advance } = setup();
  request("a");
  calls[0]!.done.reject(new Error("storagesvc down"));
  await prober.settled();
  advance(999);
  expect(request("a")).toBe(false);
  advance(1);
  expect(request("a")).toBe(true);
  expect(calls).toHaveLength(2);
});

test("a hung probe holds its page until it ends, then the next request probes at once", async () => {
  const { prober, request, calls, advance } = setup();
  request("a");
  advance(5_000);
  expect(request("a")).toBe(false);
  calls[0]!.done.resolve();
  await prober.settled();
  expect(request("a")).toBe(true);
});

test("pages are probed independently", () => {
  const { request, calls } = setup();
  expect(request("a")).toBe(true);
  expect(request("b")).toBe(true);
  expect(calls.map((c) => c.key)).toEqual(["a", "b"]);
});

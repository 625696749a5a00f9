import { describe, expect, test } from "bun:test";
import { rejectionOf } from "../../tools/kit/rejection.ts";
import { RequestCollapser } from "./request-collapser.ts";

// Rejections are awaited with rejectionOf, never `expect(p).rejects`: a regression that leaves a
// waiter pending then fails at the test's timeout instead of hanging the run.

/** A call that settles when the test says so, and records the signal it was given. */
function controllableCall() {
  const calls: { signal: AbortSignal; resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  const start = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      calls.push({ signal, resolve, reject });
    });
  return { calls, start };
}

describe("RequestCollapser", () => {
  test("concurrent callers for the same key share one call and its answer; the first one owns it", async () => {
    const joined: string[] = [];
    const collapser = new RequestCollapser<string>({ onJoin: (key, owner) => joined.push(`${key} ${owner}`) });
    const { calls, start } = controllableCall();
    const waiters = ["r1", "r2", "r3"].map((id) => collapser.run("page:0", id, new AbortController().signal, start));
    expect(calls).toHaveLength(1);
    expect(joined).toEqual(["page:0 r1", "page:0 r1"]);
    calls[0]!.resolve("books");
    const answers = await Promise.all(waiters);
    expect(answers.map((a) => a.value)).toEqual(["books", "books", "books"]);
    expect(answers.map((a) => a.collapsed)).toEqual([false, true, true]);
    expect(answers.map((a) => a.owner)).toEqual(["r1", "r1", "r1"]);
    expect(collapser.size).toBe(0);
  });

  test("different keys never share a call", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const a = collapser.run("page:0", "r1", new AbortController().signal, start);
    const b = collapser.run("page:100", "r2", new AbortController().signal, start);
    expect(calls).toHaveLength(2);
    calls[0]!.resolve("first");
    calls[1]!.resolve("second");
    expect((await a).value).toBe("first");
    expect((await b).value).toBe("second");
  });

  test("a failed call fails every waiter", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const waiters = [1, 2].map((i) => collapser.run("k", `r${i}`, new AbortController().signal, start));
    calls[0]!.reject(new Error("upstream answered 503"));
    const outcomes = await Promise.allSettled(waiters);
    expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : o.status))).toEqual([
      "Error: upstream answered 503",
      "Error: upstream answered 503",
    ]);
  });

  test("a waiter that leaves stops waiting at once; the call goes on for the others, uncancelled", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const leaving = new AbortController();
    const first = collapser.run("k", "r1", leaving.signal, start);
    const second = collapser.run("k", "r2", new AbortController().signal, start);
    leaving.abort(new Error("client left"));
    expect((await rejectionOf(first)).message).toBe("client left");
    expect(calls[0]!.signal.aborted).toBe(false);
    calls[0]!.resolve("books");
    expect(await second).toMatchObject({ value: "books", collapsed: true, owner: "r1" });
  });

  test("the call is cancelled when its last waiter has gone, and the next caller starts a new one", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const a = new AbortController();
    const b = new AbortController();
    const first = collapser.run("k", "r1", a.signal, start);
    const second = collapser.run("k", "r2", b.signal, start);
    a.abort(new Error("timed out"));
    expect((await rejectionOf(first)).message).toBe("timed out");
    expect(calls[0]!.signal.aborted).toBe(false);
    b.abort(new Error("client left"));
    expect(calls[0]!.signal.aborted).toBe(true);
    // The last waiter gets the call's own outcome, as it would have without collapsing.
    calls[0]!.reject(new Error("attempt aborted: client left"));
    expect((await rejectionOf(second)).message).toBe("attempt aborted: client left");
    const third = collapser.run("k", "r3", new AbortController().signal, start);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve("fresh");
    expect(await third).toMatchObject({ value: "fresh", collapsed: false, owner: "r3" });
  });

  test("a caller whose signal has already aborted starts nothing", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const gone = new AbortController();
    gone.abort(new Error("gone"));
    expect((await rejectionOf(collapser.run("k", "r1", gone.signal, start))).message).toBe("gone");
    expect(calls).toHaveLength(0);
  });

  test("a call is shared only while in flight: after it settles, the next caller makes a new one", async () => {
    const collapser = new RequestCollapser<string>();
    const { calls, start } = controllableCall();
    const first = collapser.run("k", "r1", new AbortController().signal, start);
    calls[0]!.resolve("v1");
    await first;
    const second = collapser.run("k", "r2", new AbortController().signal, start);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve("v2");
    expect(await second).toMatchObject({ value: "v2", collapsed: false });
  });
});

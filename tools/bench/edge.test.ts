import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { EDGE_USAGE } from "./edge.ts";
import { LatencyHistogram } from "../kit/latency-histogram.ts";
import { runOpenLoop } from "./open-loop.ts";

setDefaultTimeout(30_000);

/** Alternates 200 and 503, as a shedding service would answer. */
let answered = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ status: "ok" });
    answered++;
    return answered % 2 === 0 ? Response.json([]) : Response.json({ error: "overloaded" }, { status: 503 });
  },
});
afterAll(() => server.stop(true));
const url = `http://127.0.0.1:${server.port}/`;

describe("open-loop generator", () => {
  test("sends at the rate asked whatever the answers, and splits admitted from shed latencies", async () => {
    const result = await runOpenLoop({ url, ratePerS: 400, durationMs: 500, probeUrl: `${url}healthz`, warmConnections: 4 });
    expect(result.sent).toBe(200);
    expect(result.notSent).toBe(0);
    expect(result.unanswered).toBe(0);
    const admitted = LatencyHistogram.fromJSON(result.admitted).count;
    const shed = LatencyHistogram.fromJSON(result.shed).count;
    expect(admitted + shed).toBe(200);
    expect(Math.abs(admitted - shed)).toBeLessThanOrEqual(2);
    expect(result.probe.statuses["200"]).toBeGreaterThan(0);
  });

  test("with clients, a closed loop: each client asks again as soon as it is answered", async () => {
    const result = await runOpenLoop({ url, clients: 4, durationMs: 300 });
    expect(result.sent).toBeGreaterThan(4);
    expect(result.unanswered).toBe(0);
    expect(result.connections).toBe(4);
  });
});

describe("closed loop honouring Retry-After", () => {
  const refusing = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ error: "overloaded" }, { status: 503, headers: { "Retry-After": "1" } }),
  });
  afterAll(() => refusing.stop(true));
  const refusingUrl = `http://127.0.0.1:${refusing.port}/`;

  test("a client answered 503 with Retry-After: 1 waits that second before asking again; an impatient one does not", async () => {
    const polite = await runOpenLoop({ url: refusingUrl, clients: 3, durationMs: 300, honourRetryAfter: true });
    expect(polite.sent).toBe(3);
    expect(polite.unanswered).toBe(0);
    const impatient = await runOpenLoop({ url: refusingUrl, clients: 3, durationMs: 300 });
    expect(impatient.sent).toBeGreaterThan(30);
  });
});

describe("bench:edge on the command line", () => {
  async function runEdge(args: string[]) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "edge.ts"), ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  }

  test("--help prints the usage, exit 0; an unknown section prints it on stderr, exit 2", async () => {
    expect(await runEdge(["--help"])).toEqual({ code: 0, stdout: EDGE_USAGE, stderr: "" });
    const bad = await runEdge(["--only", "nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith('bench:edge: --only: unknown "nonsense"');
    expect(bad.stderr).toEndWith(EDGE_USAGE);
  });
});

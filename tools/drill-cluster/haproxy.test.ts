import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../kit/free-port.ts";
import { findHaproxy, Haproxy, skipWithoutHaproxy } from "./haproxy.ts";
import { haproxyConfig, SERVED_BY_HEADER } from "./haproxy-config.ts";

// Real haproxy processes in front of real HTTP servers on free ports.
setDefaultTimeout(30_000);

const skip = skipWithoutHaproxy();
let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A replica stand-in: `/readyz` answers 200 or 503 at will, `/` answers its name. */
function fakeReplica(port: number, name: string) {
  const state = { ready: true, hits: 0 };
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    fetch(request) {
      if (new URL(request.url).pathname === "/readyz") return new Response(null, { status: state.ready ? 200 : 503 });
      state.hits++;
      return Response.json({ name });
    },
  });
  cleanups.push(() => server.stop(true));
  return state;
}

/** A replica that passes its checks but drops every other request without a byte of answer (a crash mid-request). */
async function droppingReplica(port: number): Promise<{ dropped: number }> {
  const state = { dropped: 0 };
  const server: Server = createServer((socket: Socket) => {
    socket.on("error", () => {});
    socket.once("data", (chunk: Buffer) => {
      if (chunk.toString("latin1").startsWith("GET /readyz ")) {
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      } else {
        state.dropped++;
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return state;
}

async function startHaproxy(ports: number[]): Promise<{ haproxy: Haproxy; url: string }> {
  const installed = await findHaproxy();
  if (installed === undefined) throw new Error("haproxy is not on PATH (apt-get install haproxy)");
  const dir = await mkdtemp(join(tmpdir(), "haproxy-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const front = await freePort();
  const configPath = join(dir, "haproxy.cfg");
  const statsSocket = join(dir, "haproxy.sock");
  await Bun.write(
    configPath,
    haproxyConfig({
      statsSocket,
      tiers: [{ name: "books", port: front, serverTimeoutMs: 5_000, servers: ports.map((port, i) => ({ name: `booksvc-${i + 1}`, port })) }],
    }),
  );
  const haproxy = await Haproxy.start({ binary: installed.path, configPath, statsSocket });
  cleanups.push(() => haproxy.stop());
  return { haproxy, url: `http://127.0.0.1:${front}/` };
}

async function get(url: string, method = "GET") {
  // A new connection each time: after a 502 HAProxy closes the client's connection.
  const response = await fetch(url, { method, keepalive: false, signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return { status: response.status, servedBy: response.headers.get(SERVED_BY_HEADER) };
}

describe.skipIf(skip)("HAProxy with the drill's configuration", () => {
  test("a slot where nothing listens is DOWN; a replica started on its port later is UP and gets requests", async () => {
    const [first, spare] = [await freePort(), await freePort()];
    fakeReplica(first, "booksvc-1");
    const { haproxy, url } = await startHaproxy([first, spare]);
    await haproxy.waitForServer("books", "booksvc-1", "UP");
    await haproxy.waitForServer("books", "booksvc-2", "DOWN");
    expect((await get(url)).servedBy).toBe("booksvc-1");

    fakeReplica(spare, "booksvc-2");
    await haproxy.waitForServer("books", "booksvc-2", "UP");
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(url)));
    expect(new Set(answers.map((a) => a.servedBy))).toEqual(new Set(["booksvc-1", "booksvc-2"]));
  });

  test("a replica whose readiness turns 503 is taken out within a second and gets no more requests", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const stopping = fakeReplica(a, "booksvc-1");
    fakeReplica(b, "booksvc-2");
    const { haproxy, url } = await startHaproxy([a, b]);
    await Promise.all([haproxy.waitForServer("books", "booksvc-1", "UP"), haproxy.waitForServer("books", "booksvc-2", "UP")]);

    stopping.ready = false;
    const outMs = await haproxy.waitForServer("books", "booksvc-1", "DOWN", 5_000);
    expect(outMs).toBeLessThan(1_500);
    const hitsBefore = stopping.hits;
    for (let i = 0; i < 6; i++) expect(await get(url)).toEqual({ status: 200, servedBy: "booksvc-2" });
    expect(stopping.hits).toBe(hitsBefore);
  });

  test("a GET a replica drops without answering is replayed on another replica; a POST is not", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const dropping = await droppingReplica(a);
    fakeReplica(b, "booksvc-2");
    const { haproxy, url } = await startHaproxy([a, b]);
    await Promise.all([haproxy.waitForServer("books", "booksvc-1", "UP"), haproxy.waitForServer("books", "booksvc-2", "UP")]);

    const gets = [];
    for (let i = 0; i < 6; i++) gets.push(await get(url));
    expect(gets.every((g) => g.status === 200 && g.servedBy === "booksvc-2")).toBe(true);
    expect(dropping.dropped).toBeGreaterThan(0);
    const backend = (await haproxy.stats()).find((r) => r.proxy === "books" && r.name === "BACKEND");
    expect(backend?.redispatches).toBeGreaterThanOrEqual(dropping.dropped);

    const droppedBefore = dropping.dropped;
    const posts = [];
    for (let i = 0; i < 6; i++) posts.push(await get(url, "POST"));
    const failed = posts.filter((p) => p.status === 502);
    expect(failed.length).toBeGreaterThan(0);
    // Each failed POST reached the dropping replica exactly once: never replayed.
    expect(dropping.dropped - droppedBefore).toBe(failed.length);
  });
});

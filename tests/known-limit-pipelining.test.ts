import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { freePort } from "../tools/kit/free-port.ts";
import { RawConnection } from "../tools/kit/raw-connection.ts";
import { ServiceProcess } from "../tools/kit/service-process.ts";

// Starts a real booksvc process: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

/*
 * A known limit of Bun's HTTP server (Bun 1.4.5), shared by both services: when a second
 * HTTP/1.1 request arrives on a connection whose first answer is still being computed (it waits
 * on I/O, as booksvc's GET / waits on storagesvc), Bun closes the connection at once. Both
 * requests get nothing. Upstream: oven-sh/bun#38128 (open). These tests pin today's behaviour;
 * when Bun fixes it, the first one fails, and the README's "Known limits" should change with it.
 */

let upstream: FakeUpstream;
let booksvc: ServiceProcess;
const connections: RawConnection[] = [];

function connection(): RawConnection {
  const c = new RawConnection(booksvc.port);
  connections.push(c);
  return c;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.delay(20); // an answer that waits on I/O, as a real storagesvc's does
  const port = await freePort();
  booksvc = ServiceProcess.start({
    entry: "cmd/booksvc/main.ts",
    port,
    env: { HTTP_PORT: String(port), STORAGESVC_URL: upstream.url, RESILIENCE_STRATEGY: "none", LOG_LEVEL: "warn" },
  });
  await booksvc.waitFor("/healthz");
});

afterAll(async () => {
  for (const c of connections) c.destroy();
  await booksvc?.stop("SIGKILL");
  await upstream?.close();
});

describe("known limit: HTTP/1.1 pipelining (Bun.serve, oven-sh/bun#38128)", () => {
  test("two pipelined GET / on one connection get 0 bytes: Bun closes the connection", async () => {
    const c = connection();
    c.send(RawConnection.get("/"), RawConnection.get("/"));
    await c.until((x) => x.ended !== "open");
    expect(c.received).toBe("");
    expect(c.ended).toBe("closed");
  });

  test("the same two GET / sent one after the other on one keep-alive connection are both answered", async () => {
    const c = connection();
    c.send(RawConnection.get("/"));
    await c.until((x) => x.statusLines().length === 1);
    c.send(RawConnection.get("/", { Connection: "close" }));
    await c.until((x) => x.ended !== "open");
    expect(c.statusLines()).toEqual(["HTTP/1.1 200", "HTTP/1.1 200"]);
    expect(c.ended).toBe("closed");
  });

  test("pipelined requests whose answers wait on no I/O (/healthz, /readyz) are all answered, in order", async () => {
    const c = connection();
    c.send(RawConnection.get("/healthz"), RawConnection.get("/readyz"), RawConnection.get("/healthz", { Connection: "close" }));
    await c.until((x) => x.ended !== "open");
    expect(c.statusLines()).toEqual(["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"]);
    expect(c.ended).toBe("closed");
  });
});

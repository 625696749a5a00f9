import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { RawConnection } from "../../tools/kit/raw-connection.ts";
import { withOriginFormUrls } from "./origin-form-url.ts";

/** An app echoing what Hono routed, served by Bun on a free loopback port. */
function echoServer(wrap: boolean) {
  const app = new Hono();
  app.get("/readyz", (c) => c.json({ path: c.req.path, query: c.req.query("x") ?? null, url: c.req.url }));
  const fetch = wrap ? withOriginFormUrls(app.fetch, "http://localhost") : app.fetch;
  return Bun.serve({ fetch, port: 0, hostname: "127.0.0.1" });
}

describe("withOriginFormUrls", () => {
  test("an HTTP/1.0 request without Host reaches its route, query included", async () => {
    const server = echoServer(true);
    try {
      const answer = await RawConnection.exchange(server.port!, "GET /readyz?x=1 HTTP/1.0\r\n\r\n");
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ path: "/readyz", query: "1", url: "http://localhost/readyz?x=1" });
    } finally {
      server.stop(true);
    }
  });

  test("a request with Host is passed on untouched", async () => {
    const server = echoServer(true);
    try {
      const answer = await RawConnection.exchange(server.port!, "GET /readyz HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
      expect(JSON.parse(answer.body)).toMatchObject({ url: "http://example.test/readyz" });
    } finally {
      server.stop(true);
    }
  });

  test("without it, Bun 1.4.5 and Hono route such a request as another path (why it exists)", async () => {
    const server = echoServer(false);
    try {
      expect((await RawConnection.exchange(server.port!, "GET /readyz HTTP/1.0\r\n\r\n")).status).toBe(404);
    } finally {
      server.stop(true);
    }
  });
});

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startBooksvcProcess } from "../tools/kit/booksvc-process.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { RawConnection } from "../tools/kit/raw-connection.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// What a load balancer's plain health check sends (HAProxy `option httpchk` without a Host line):
// HTTP/1.0, no Host. Both real services must route it like any other request.

setDefaultTimeout(60_000);

const HEALTH_CHECK = (path: string) => `GET ${path} HTTP/1.0\r\n\r\n`;

const stops: (() => Promise<unknown>)[] = [];
let database: FreshDatabase;
let storagesvc: ServiceProcess;
let booksvc: ServiceProcess;

beforeAll(async () => {
  database = await createFreshDatabase("bookstore_http10");
  storagesvc = await startStoragesvcProcess(database.url, (stop) => stops.push(stop), { LOG_LEVEL: "warn" });
  await storagesvc.waitFor("/readyz", 200);
  booksvc = (await startBooksvcProcess({ LOG_LEVEL: "warn" }, (stop) => stops.push(stop))).svc;
});

afterAll(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await database.drop();
});

describe("an HTTP/1.0 request without Host", () => {
  test.each([
    ["storagesvc", "/readyz", { status: "ready" }],
    ["storagesvc", "/healthz", { status: "ok" }],
    ["booksvc", "/readyz", { status: "ready" }],
    ["booksvc", "/healthz", { status: "ok" }],
  ] as const)("%s answers GET %s with its own answer, not 404", async (name, path, body) => {
    const service = name === "storagesvc" ? storagesvc : booksvc;
    const answer = await RawConnection.exchange(service.port, HEALTH_CHECK(path));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(body);
  });

  test("storagesvc serves the books with their page parameters", async () => {
    const answer = await RawConnection.exchange(storagesvc.port, HEALTH_CHECK("/books?limit=1&after=1"));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual([{ id: 2, title: "Second book", author: "Jane Doe", desc: "" }]);
  });
});

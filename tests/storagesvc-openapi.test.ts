import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../tools/kit/free-port.ts";
import { type CheckedResponse, OpenApiResponses } from "../tools/kit/openapi-responses.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { REPO_ROOT, type ServiceProcess } from "../tools/kit/service-process.ts";
import { startStoragesvcProcess } from "../tools/kit/storagesvc-process.ts";

// storagesvc as a real process against the machine's PostgreSQL (a database of its own), and
// against no database at all; every answer is checked against docs/openapi/storagesvc.yaml
// (status, headers, media type, body), errors included.

// Processes and database creation take a while on a busy machine (bun's default is 5 s per test).
setDefaultTimeout(30_000);

const ARTICLE_BOOKS = [
  { id: 1, title: "One book", author: "John Doe", desc: "" },
  { id: 2, title: "Second book", author: "Jane Doe", desc: "" },
];

let api: OpenApiResponses;
let database: FreshDatabase;
let service: ServiceProcess;
const stops: (() => Promise<unknown>)[] = [];

function startStoragesvc(databaseUrl: string): Promise<ServiceProcess> {
  return startStoragesvcProcess(databaseUrl, (stop) => stops.push(stop), { DB_POOL_MAX: "2", LOG_LEVEL: "warn" });
}

beforeAll(async () => {
  api = await OpenApiResponses.fromFile(join(REPO_ROOT, "docs/openapi/storagesvc.yaml"));
  database = await createFreshDatabase("storagesvc_openapi");
  service = await startStoragesvc(database.url);
  await service.waitFor("/readyz", 200);
});

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await database.drop();
});

/** Sends the request and checks the answer against the document; returns it, body read. */
async function call(svc: ServiceProcess, path: string, init: RequestInit = {}): Promise<CheckedResponse> {
  const response = await fetch(svc.url + path, init);
  const checked = await api.check(response, { method: init.method ?? "GET", path });
  expect(checked.problems).toEqual([]);
  return checked;
}

describe("storagesvc answers as docs/openapi/storagesvc.yaml says", () => {
  test("the books: 200, the article's two, with a generated X-Request-Id", async () => {
    const books = await call(service, "/books");
    expect(books.status).toBe(200);
    expect(JSON.parse(books.body)).toEqual(ARTICLE_BOOKS);
    expect(books.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
  });

  test("the caller's X-Request-Id comes back", async () => {
    const books = await call(service, "/books", { headers: { "X-Request-Id": "openapi-storage-1" } });
    expect(books.headers.get("x-request-id")).toBe("openapi-storage-1");
  });

  test("health, readiness and metrics", async () => {
    expect((await call(service, "/healthz")).status).toBe(200);
    expect((await call(service, "/readyz")).status).toBe(200);
    const metrics = await call(service, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("http_requests_total");
  });

  test("an unknown path is 404 and another method 405 with Allow, both JSON", async () => {
    expect((await call(service, "/")).status).toBe(404);
    const notAllowed = await call(service, "/books", { method: "PUT", body: "[]" });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("storagesvc without its database, as docs/openapi/storagesvc.yaml says", () => {
  let orphan: ServiceProcess;
  beforeAll(async () => {
    // Nothing listens on this port: the database is down from the start.
    const nowhere = `postgres://postgres@127.0.0.1:${await freePort()}/books`;
    orphan = await startStoragesvc(nowhere);
    await orphan.waitFor("/healthz", 200);
  });

  test("the books are 503 JSON without detail, readiness 503, liveness still 200", async () => {
    const books = await call(orphan, "/books");
    expect(books.status).toBe(503);
    expect(books.body).not.toContain("127.0.0.1");
    expect((await call(orphan, "/readyz")).status).toBe(503);
    expect((await call(orphan, "/healthz")).status).toBe(200);
  });
});

// Pages are being built elsewhere; these hold storagesvc to the document once they land.
describe("storagesvc pages", () => {
  let pagesDatabase: FreshDatabase | undefined;
  afterEach(async () => {
    await pagesDatabase?.drop();
    pagesDatabase = undefined;
  });

  test("a full page carries Link to the next; the last short page does not", async () => {
    pagesDatabase = await createFreshDatabase("storagesvc_openapi_pages");
    const svc = await startStoragesvc(pagesDatabase.url);
    await svc.waitFor("/readyz", 200);
    const sql = postgres(pagesDatabase.url, { max: 1, onnotice: () => {} });
    try {
      await sql`insert into books (title, author, "desc") values ('Third book', 'Jim Doe', '')`;
    } finally {
      await sql.end();
    }
    const first = await call(svc, "/books?limit=2");
    expect(JSON.parse(first.body)).toEqual(ARTICLE_BOOKS);
    expect(first.headers.get("link")).toBe('</books?limit=2&after=2>; rel="next"');
    const last = await call(svc, "/books?limit=2&after=2");
    expect(JSON.parse(last.body)).toEqual([{ id: 3, title: "Third book", author: "Jim Doe", desc: "" }]);
    expect(last.headers.has("link")).toBe(false);
  });

  test("a bad limit or after is 400 JSON naming it", async () => {
    for (const [query, name] of [["limit=0", "limit"], ["limit=1001", "limit"], ["after=-1", "after"], ["after=x", "after"]] as const) {
      const bad = await call(service, `/books?${query}`);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toContain(name);
    }
  });
});

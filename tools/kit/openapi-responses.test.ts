import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { OpenApiResponses } from "./openapi-responses.ts";

// The checker the end-to-end API tests rely on, shown to catch each kind of departure, against
// booksvc's real document and answers built by hand.

const BOOKS = JSON.stringify([{ id: 1, title: "One book", author: "John Doe", desc: "" }]);
const JSON_TYPE = "application/json";
/** What every answer with books from `/` carries for caches in front. */
const VALIDATORS = { ETag: '"1a-x1"', "Cache-Control": "max-age=0, stale-if-error=600" };

let booksvc: OpenApiResponses;
beforeAll(async () => {
  booksvc = await OpenApiResponses.fromFile(join(import.meta.dir, "../../docs/openapi/booksvc.yaml"));
});

function answer(status: number, body: string, headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { "X-Request-Id": "abc-1", ...headers } });
}

/** An answer with books from `/`, with the validators it always carries. */
function books(headers: Record<string, string>, body = BOOKS): Response {
  return answer(200, body, { ...VALIDATORS, ...headers });
}

async function problemsOf(response: Response, path = "/", method = "GET"): Promise<string[]> {
  return (await booksvc.check(response, { method, path })).problems;
}

describe("OpenApiResponses", () => {
  test("a fresh answer and a cached one as the document describes them conform", async () => {
    expect(await problemsOf(books({ "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; fwd=miss" }))).toEqual([]);
    expect(await problemsOf(books({ "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; hit", Age: "12" }))).toEqual([]);
  });

  test("reports a missing required header and a header value outside its schema", async () => {
    const noCacheStatus = await problemsOf(books({ "Content-Type": JSON_TYPE }));
    expect(noCacheStatus).toEqual(["GET / → 200: missing required header cache-status"]);
    const badAge = await problemsOf(books({ "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; hit", Age: "soon" }));
    expect(badAge.join("\n")).toContain('header age: "soon" does not match');
    const badStatus = await problemsOf(books({ "Content-Type": JSON_TYPE, "Cache-Status": "HIT" }));
    expect(badStatus.join("\n")).toContain("header cache-status");
    const noRetryAfter = await problemsOf(answer(503, '{"error":"x"}', { "Content-Type": JSON_TYPE }));
    expect(noRetryAfter).toEqual(["GET / → 503: missing required header retry-after"]);
  });

  test("reports a response without X-Request-Id", async () => {
    const response = new Response(BOOKS, { headers: { "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; fwd=miss", ...VALIDATORS } });
    expect(await problemsOf(response)).toEqual(["GET / → 200: missing required header x-request-id"]);
  });

  test("reports a header the document does not name", async () => {
    const problems = await problemsOf(books({ "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; fwd=miss", "X-Cache": "HIT" }));
    expect(problems).toEqual(["GET / → 200: header x-cache is not in the document"]);
  });

  test("reports a status the operation does not document", async () => {
    expect(await problemsOf(answer(418, "{}", { "Content-Type": JSON_TYPE }))).toEqual([
      "GET / → 418: status 418 is not documented (documented: 200, 304, 400, 500, 502, 503, 504)",
    ]);
  });

  test("reports a body outside the schema: null, a book with a field missing or one too many", async () => {
    const headers = { "Content-Type": JSON_TYPE, "Cache-Status": "booksvc; fwd=miss" };
    expect((await problemsOf(books(headers, "null"))).join("\n")).toContain("body must be array");
    const missing = await problemsOf(books(headers, '[{"id":1,"title":"t","author":"a"}]'));
    expect(missing.join("\n")).toContain("body/0 must have required property 'desc'");
    const extra = await problemsOf(books(headers, '[{"id":1,"title":"t","author":"a","desc":"","isbn":"x"}]'));
    expect(extra.join("\n")).toContain("body/0 must NOT have additional properties");
    expect((await problemsOf(answer(502, "upstream failed", { "Content-Type": JSON_TYPE }))).join("\n")).toContain("body is not JSON");
  });

  test("reports a media type the response does not document", async () => {
    const problems = await problemsOf(answer(502, "<h1>Bad gateway</h1>", { "Content-Type": "text/html" }));
    expect(problems).toEqual(['GET / → 502: Content-Type "text/html", expected one of application/json']);
  });

  test("holds an unknown path to NotFound and another method to MethodNotAllowed", async () => {
    const notFound = answer(404, '{"error":"not found"}', { "Content-Type": JSON_TYPE });
    expect(await problemsOf(notFound, "/nope")).toEqual([]);
    expect(await problemsOf(books({ "Content-Type": JSON_TYPE }), "/nope")).toEqual([
      "GET /nope → 200: no such path in the document, so 404 (NotFound) was expected",
    ]);
    const withAllow = answer(405, '{"error":"method not allowed"}', { "Content-Type": JSON_TYPE, Allow: "GET, HEAD" });
    expect(await problemsOf(withAllow, "/", "POST")).toEqual([]);
    const withoutAllow = answer(405, '{"error":"method not allowed"}', { "Content-Type": JSON_TYPE });
    expect(await problemsOf(withoutAllow, "/", "POST")).toEqual(["POST / → 405: missing required header allow"]);
  });

  test("takes Prometheus text on /metrics", async () => {
    const metrics = answer(200, "# HELP x y\nx 1\n", { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
    expect(await problemsOf(metrics, "/metrics")).toEqual([]);
  });

  test("refuses a document that is not valid OpenAPI", async () => {
    const broken = "openapi: 3.1.1\ninfo: {title: x, version: '1'}\npaths:\n  /:\n    get:\n      responses:\n        '200': {headers: {A: {required: yes}}}\n";
    await expect(OpenApiResponses.fromText(broken)).rejects.toThrow("not a valid OpenAPI document");
  });
});

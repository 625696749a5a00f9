// The two services' HTTP APIs as OpenAPI 3.1 documents, one per service (each is its own server,
// with its own port and paths). `bun run docs` writes them to docs/openapi/; a test checks the
// committed files are exactly what this produces. The book schemas come from the zod schemas
// booksvc validates storagesvc's answers with, so what one sends and the other accepts cannot
// drift apart; end-to-end tests check real answers against the rest.

import * as z from "zod/mini";
import { bookListSchema, bookSchema } from "../../internal/booksvc/books.ts";
import { Registry } from "prom-client";
import { createBooksvcMetrics } from "../../internal/booksvc/metrics.ts";
import { createHttpMetrics } from "../../internal/httpx/http-metrics.ts";
import { ACCEPTED_REQUEST_ID } from "../../internal/httpx/request-context.ts";
import { MAX_PAGE_AFTER } from "../../internal/books/page-query.ts";
import { READINESS_TIME_LIMIT_MS } from "../../internal/storagesvc/database-readiness.ts";

export type OpenApiDocument = Record<string, unknown>;
type Json = Record<string, unknown>;

/** The version both documents carry: the package's. */
export interface ApiInfo {
  version: string;
}

const ref = (kind: string, name: string): Json => ({ $ref: `#/components/${kind}/${name}` });
const jsonContent = (schema: Json): Json => ({ content: { "application/json": { schema } } });

/** Book and BookList, from the zod schemas in internal/booksvc/books.ts. */
function bookSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  registry.add(bookSchema, { id: "Book" });
  registry.add(bookListSchema, { id: "BookList" });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  // OpenAPI 3.1 schemas are JSON Schema 2020-12 already; the per-schema $schema and $id zod adds
  // would make each a separate resource, so they go.
  return Object.fromEntries(
    Object.entries(schemas).map(([name, { $schema: _, $id: __, ...schema }]) => [name, schema as Json]),
  );
}

const REQUEST_ID_SCHEMA = { type: "string", pattern: ACCEPTED_REQUEST_ID.source };

/** What both services share: schemas, the request id, the answers for unknown paths and methods. */
function sharedComponents(): Json {
  return {
    schemas: {
      ...bookSchemas(),
      Error: {
        type: "object",
        description: "Every error answer. `error` says what went wrong in words for people; never internal detail.",
        properties: { error: { type: "string" } },
        required: ["error"],
        additionalProperties: false,
      },
      Health: {
        type: "object",
        properties: { status: { const: "ok" } },
        required: ["status"],
        additionalProperties: false,
      },
      Ready: {
        type: "object",
        properties: { status: { const: "ready" } },
        required: ["status"],
        additionalProperties: false,
      },
      NotReady: {
        type: "object",
        properties: { status: { const: "not ready" } },
        required: ["status"],
        additionalProperties: false,
      },
    },
    parameters: {
      RequestId: {
        name: "X-Request-Id",
        in: "header",
        required: false,
        description:
          "The caller's id for this request: logged with it, sent back on the answer, and (booksvc) forwarded to storagesvc. A value that does not match the pattern is replaced by a new UUID.",
        schema: REQUEST_ID_SCHEMA,
      },
      Traceparent: {
        name: "traceparent",
        in: "header",
        required: false,
        description:
          "W3C Trace Context: the caller's span. Continued (same trace id, `trace_id` in the log line); absent or invalid, a new trace starts. booksvc sends storagesvc a new span id per attempt.",
        schema: { type: "string", pattern: "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$" },
      },
      IfNoneMatch: {
        name: "If-None-Match",
        in: "header",
        required: false,
        description: "ETags the caller holds: when one is the answer's, the answer is `304` without a body.",
        schema: { type: "string" },
      },
      Limit: {
        name: "limit",
        in: "query",
        required: false,
        description: "Most books in the page.",
        schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
      },
      After: {
        name: "after",
        in: "query",
        required: false,
        description: "Keyset cursor: only books whose id is greater than this. The next page's is the last id of this one.",
        // 2^53−1: the largest id a JSON number carries exactly.
        schema: { type: "integer", format: "int64", minimum: 0, maximum: Number(MAX_PAGE_AFTER), default: 0 },
      },
    },
    headers: {
      RequestId: {
        description: "The request's `X-Request-Id` when it was acceptable, else the UUID generated for it. On every answer.",
        required: true,
        schema: REQUEST_ID_SCHEMA,
      },
      ETag: {
        description: "Strong validator of the body: equal bodies carry equal tags, on every replica.",
        required: true,
        schema: { type: "string", pattern: '^"[0-9a-z]+-[0-9a-z]+"$' },
      },
      Allow: {
        description: "The methods the path does answer.",
        required: true,
        schema: { type: "string", examples: ["GET, HEAD"] },
      },
    },
    responses: {
      NotFound: {
        description: "No such path (any method).",
        headers: { "X-Request-Id": ref("headers", "RequestId") },
        ...jsonContent(ref("schemas", "Error")),
      },
      MethodNotAllowed: {
        description: "The path exists, but not for this method.",
        headers: { "X-Request-Id": ref("headers", "RequestId"), Allow: ref("headers", "Allow") },
        ...jsonContent(ref("schemas", "Error")),
      },
      BadParameter: {
        description: "`limit` or `after` is not an integer in its range; `error` names the parameter and what it accepts.",
        headers: { "X-Request-Id": ref("headers", "RequestId") },
        ...jsonContent(ref("schemas", "Error")),
      },
      InternalError: {
        description: "An unexpected failure in the service; the detail is in its log only.",
        headers: { "X-Request-Id": ref("headers", "RequestId") },
        ...jsonContent(ref("schemas", "Error")),
      },
    },
  };
}

const withRequestId = (headers: Json = {}): Json => ({ "X-Request-Id": ref("headers", "RequestId"), ...headers });

/**
 * The `/metrics` description: each metric a service registers itself, named with its help text,
 * read from a registry the service's own code fills (so the list cannot drift from the code).
 */
function metricsDescription(register: (registry: Registry) => void): string {
  const registry = new Registry();
  register(registry);
  const list = registry
    .getMetricsAsArray()
    .map((metric) => `- \`${metric.name}\` (${metric.type}): ${metric.help}`)
    .join("\n");
  return `Prometheus text exposition. Unmatched paths share the route label \`unmatched\`.\n\n${list}\n\nPlus the process metrics of prom-client. The only answer that is not JSON.`;
}

/**
 * /healthz, /readyz and /metrics: the same on both services but for what "ready" means and the
 * metrics each registers.
 */
function operationalPaths(readyMeans: string, registerMetrics: (registry: Registry) => void): Json {
  const parameters = [ref("parameters", "RequestId")];
  return {
    "/healthz": {
      get: {
        operationId: "health",
        tags: ["operations"],
        summary: "Liveness",
        description: "`200` as long as the process runs.",
        parameters,
        responses: {
          "200": { description: "Alive.", headers: withRequestId(), ...jsonContent(ref("schemas", "Health")) },
          "500": ref("responses", "InternalError"),
        },
      },
    },
    "/readyz": {
      get: {
        operationId: "readiness",
        tags: ["operations"],
        summary: "Readiness",
        description: `${readyMeans} From SIGTERM or SIGINT on, \`503\` at once, so load balancers stop sending requests before the service stops.`,
        parameters,
        responses: {
          "200": { description: "Ready to serve.", headers: withRequestId(), ...jsonContent(ref("schemas", "Ready")) },
          "503": { description: "Not ready, or stopping.", headers: withRequestId(), ...jsonContent(ref("schemas", "NotReady")) },
          "500": ref("responses", "InternalError"),
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        tags: ["operations"],
        summary: "Prometheus metrics",
        description: metricsDescription(registerMetrics),
        parameters,
        responses: {
          "200": {
            description: "The metrics.",
            headers: withRequestId(),
            content: { "text/plain": { schema: { type: "string" } } },
          },
          "500": ref("responses", "InternalError"),
        },
      },
    },
  };
}

const COMMON_RULES = `
Rules for every route:

- Every answer is JSON (\`Content-Type: application/json\`) except \`GET /metrics\`.
- Every answer carries \`X-Request-Id\`: the request's own when it sent an acceptable one, else a new UUID.
- An unknown path is \`404\` and a known path with another method is \`405\` with \`Allow\`
  (components \`NotFound\` and \`MethodNotAllowed\`), both with an \`Error\` body.
  Every \`GET\` route also answers \`HEAD\`.
- An unexpected failure is \`500\` with an \`Error\` body that carries no internal detail.
`;

/** storagesvc: the books in PostgreSQL. */
export function storagesvcOpenApi({ version }: ApiInfo): OpenApiDocument {
  return {
    openapi: "3.1.1",
    info: {
      title: "storagesvc",
      version,
      summary: "The books in PostgreSQL.",
      description: `Reads the \`books\` table. Starts while the database is down and keeps trying; creates the
table when it is missing and seeds the article's two books into an empty table.
${COMMON_RULES}`,
    },
    servers: [{ url: "http://localhost:8082", description: "`HTTP_PORT` at its default" }],
    tags: [
      { name: "books", description: "The book list." },
      { name: "operations", description: "Health, readiness and metrics." },
    ],
    paths: {
      "/books": {
        get: {
          operationId: "listBooks",
          tags: ["books"],
          summary: "A page of books, by id",
          description: `At most \`limit\` books whose id is greater than \`after\`, ordered by id (keyset pagination).
With the article's two books and no parameters the answer is
\`[{"id":1,"title":"One book","author":"John Doe","desc":""},{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]\`.
Text fields are always strings: a \`NULL\` in the table is sent as \`""\`.
The answer stays within \`PAGE_MAX_BYTES\`: a page ends before the book that would pass it (at least
one book per page) and then still carries \`Link\`. Ids are JSON numbers (\`integer\` and \`bigint\` columns).`,
          parameters: [ref("parameters", "RequestId"), ref("parameters", "Traceparent"), ref("parameters", "IfNoneMatch"), ref("parameters", "Limit"), ref("parameters", "After")],
          responses: {
            "200": {
              description: "The page; `[]` past the last book.",
              headers: withRequestId({
                ETag: ref("headers", "ETag"),
                Link: {
                  description:
                    "On a full page (even one that holds the last book: the next page is then `[]`) and on a page `PAGE_MAX_BYTES` ended: the page after its last book, in canonical form.",
                  required: false,
                  schema: { type: "string", pattern: '^</books\\?limit=[0-9]+&after=[0-9]+>; rel="next"$' },
                },
              }),
              ...jsonContent(ref("schemas", "BookList")),
            },
            "304": {
              description: "`If-None-Match` named this page's `ETag`: no body.",
              headers: withRequestId({ ETag: ref("headers", "ETag") }),
            },
            "400": ref("responses", "BadParameter"),
            "503": {
              description: "The database is unavailable (down, not answering in time, the table locked, missing or not created yet).",
              headers: withRequestId(),
              ...jsonContent(ref("schemas", "Error")),
            },
            "500": {
              description: "A book's id is above 2^53−1, which a JSON number cannot carry exactly (`error` names it), or an unexpected error (`error` without detail).",
              headers: withRequestId(),
              ...jsonContent(ref("schemas", "Error")),
            },
          },
        },
      },
      ...operationalPaths(
        `\`200\` when the books query itself (one book) answers within ${READINESS_TIME_LIMIT_MS} ms, else \`503\` (database down, table locked or missing).`, (registry) => createHttpMetrics(registry)),
    },
    components: sharedComponents(),
  };
}

const BOOKSVC_CACHE_CONTROL = {
  description: "For a CDN or proxy in front: `max-age=<CACHE_MAX_AGE_S>, stale-if-error=<CACHE_TTL_S>` (RFC 5861).",
  required: true,
  schema: { type: "string", pattern: "^max-age=[0-9]+, stale-if-error=[0-9]+$" },
};

/** booksvc: the books from storagesvc, kept answering by a resilience strategy. */
export function booksvcOpenApi({ version }: ApiInfo): OpenApiDocument {
  return {
    openapi: "3.1.1",
    info: {
      title: "booksvc",
      version,
      summary: "The books from storagesvc, kept answering while storagesvc or its database is down.",
      description: `Calls storagesvc's \`GET /books\` through the strategy \`RESILIENCE_STRATEGY\` names. An upstream
failure is a network error, a timeout, a \`5xx\`, a redirect, or a body that is not a valid book list.

| strategy | on upstream failure |
|---|---|
| \`none\` | \`502\` at once |
| \`retry\` | retries with backoff until success or \`REQUEST_TIMEOUT_MS\`, then \`504\`; never the cache |
| \`breaker\` | a failure while the breaker is closed is \`502\`; while it is open (or its one probe is in flight) the last good answer, at once |
| \`combined\` | retries (at most \`RETRY_MAX_RETRIES\`) through the breaker; when they run out or the breaker is open, the last good answer |

With no last good answer to give, the answer is \`503\` with \`Retry-After\`, never \`200\` with an empty body.
With \`STALE_AFTER_MS\` (\`breaker\`, \`combined\`), a client of a page that has a last good answer waits at most
that long for storagesvc, then gets the last good answer (\`Cache-Status: booksvc; hit; detail=upstream-slow\`).
An answer over \`UPSTREAM_MAX_BODY_BYTES\` fails its page only: its last good answer, or \`502\` naming the cause.
${COMMON_RULES}`,
    },
    servers: [{ url: "http://localhost:8081", description: "`HTTP_PORT` at its default" }],
    tags: [
      { name: "books", description: "The book list, through the resilience strategy." },
      { name: "operations", description: "Health, readiness and metrics." },
    ],
    paths: {
      "/": {
        get: {
          operationId: "listBooks",
          tags: ["books"],
          summary: "A page of books, fresh from storagesvc or the last good answer",
          description: `The same page storagesvc's \`GET /books\` answers for the same \`limit\` and \`after\` (forwarded in
canonical form), or that page's last good answer when the strategy falls back to it.`,
          parameters: [ref("parameters", "RequestId"), ref("parameters", "Traceparent"), ref("parameters", "IfNoneMatch"), ref("parameters", "Limit"), ref("parameters", "After")],
          responses: {
            "200": {
              description: "The page, fresh or from the cache (`Cache-Status` says which).",
              headers: withRequestId({
                "Cache-Status": {
                  description:
                    "`booksvc; fwd=miss`: fresh from storagesvc. `booksvc; fwd=miss; collapsed`: fresh, from an upstream call this request shared with concurrent ones for the same page. `booksvc; hit`: the last good answer, from the cache. `booksvc; hit; detail=upstream-slow`: the last good answer, because storagesvc had not answered within `STALE_AFTER_MS`.",
                  required: true,
                  schema: { type: "string", enum: ["booksvc; fwd=miss", "booksvc; fwd=miss; collapsed", "booksvc; hit", "booksvc; hit; detail=upstream-slow"] },
                },
                Age: {
                  description: "With `Cache-Status: booksvc; hit` only: seconds since the answer was stored.",
                  required: false,
                  schema: { type: "integer", minimum: 0 },
                },
                Link: {
                  description: "When storagesvc's answer linked to a next page: that page, in booksvc's own URL space.",
                  required: false,
                  schema: { type: "string", pattern: '^</\\?limit=[0-9]+&after=[0-9]+>; rel="next"$' },
                },
                ETag: ref("headers", "ETag"),
                "Cache-Control": BOOKSVC_CACHE_CONTROL,
              }),
              ...jsonContent(ref("schemas", "BookList")),
            },
            "304": {
              description: "`If-None-Match` named this page's `ETag`: no body; `Cache-Status` and `Age` as the `200` would have had them.",
              headers: withRequestId({ ETag: ref("headers", "ETag"), "Cache-Control": BOOKSVC_CACHE_CONTROL }),
            },
            "400": ref("responses", "BadParameter"),
            "502": {
              description:
                "storagesvc failed and the strategy does not fall back (`none`; `breaker` while closed; `retry` when the retry budget refuses the retry), or this page alone failed (`page too large`) and has no last good answer.",
              headers: withRequestId(),
              ...jsonContent(ref("schemas", "Error")),
            },
            "503": {
              description:
                  "The strategy fell back to the cache, but it holds no answer for this page (or cannot be reached); or `MAX_IN_FLIGHT` requests were already in flight (shed at once, `Retry-After: 1`).",
              headers: withRequestId({
                "Retry-After": {
                  description: "Seconds until the breaker lets the next probe through; `1` when shed.",
                  required: true,
                  schema: { type: "integer", minimum: 1 },
                },
              }),
              ...jsonContent(ref("schemas", "Error")),
            },
            "504": {
              description: "`retry`: no success within `REQUEST_TIMEOUT_MS`.",
              headers: withRequestId(),
              ...jsonContent(ref("schemas", "Error")),
            },
            "500": ref("responses", "InternalError"),
          },
        },
      },
      ...operationalPaths("`200` whether storagesvc answers or not: booksvc is built to answer while it is down.", (registry) => {
        createHttpMetrics(registry);
        createBooksvcMetrics({ registry, breakerState: () => undefined });
      }),
    },
    components: sharedComponents(),
  };
}

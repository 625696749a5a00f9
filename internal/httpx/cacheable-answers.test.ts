import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { cacheableAnswers, ifNoneMatchMatches, strongEtag } from "./cacheable-answers.ts";

const BODY = '[{"id":1,"title":"One book","author":"John Doe","desc":""}]';

function setup(cacheControl?: string) {
  const app = new Hono();
  const answers = cacheableAnswers({ cacheControl });
  let body = BODY;
  app.get("/", (c) => answers.json(c, body, { "Cache-Status": "booksvc; hit", Age: "3", Link: '</?after=1>; rel="next"' }));
  return { app, setBody: (next: string) => void (body = next) };
}

describe("strongEtag", () => {
  test("is a quoted strong tag, the same for equal bodies and different for different ones", () => {
    expect(strongEtag(BODY)).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(strongEtag(`${BODY} `.trim())).toBe(strongEtag(BODY));
    expect(strongEtag(BODY.replace("One", "Two"))).not.toBe(strongEtag(BODY));
  });
});

describe("ifNoneMatchMatches", () => {
  const tag = '"a-b"';
  test("matches the tag, a list holding it, its weak form and *", () => {
    for (const header of ['"a-b"', '"x", "a-b"', 'W/"a-b"', "*", ' "zz" ,"a-b" ']) expect(ifNoneMatchMatches(header, tag)).toBe(true);
  });
  test("does not match another tag, an unquoted one, or no header", () => {
    for (const header of ['"a-c"', "a-b", "", undefined]) expect(ifNoneMatchMatches(header, tag)).toBe(false);
  });
});

describe("cacheableAnswers", () => {
  test("200 carries the body, ETag and Cache-Control", async () => {
    const { app } = setup("max-age=5, stale-if-error=600");
    const response = await app.request("/");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(BODY);
    expect(response.headers.get("ETag")).toBe(strongEtag(BODY));
    expect(response.headers.get("Cache-Control")).toBe("max-age=5, stale-if-error=600");
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Link")).toBe('</?after=1>; rel="next"');
  });

  test("a matching If-None-Match gets 304 without a body, keeping ETag, Cache-Control, Cache-Status and Age", async () => {
    const { app } = setup("max-age=0, stale-if-error=600");
    const etag = (await app.request("/")).headers.get("ETag")!;
    const response = await app.request("/", { headers: { "If-None-Match": etag } });
    expect(response.status).toBe(304);
    expect(await response.text()).toBe("");
    expect(response.headers.get("ETag")).toBe(etag);
    expect(response.headers.get("Cache-Control")).toBe("max-age=0, stale-if-error=600");
    expect(response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(response.headers.get("Age")).toBe("3");
    expect(response.headers.get("Content-Type")).toBeNull();
    expect(response.headers.get("Link")).toBeNull();
  });

  test("once the body changes, the old tag gets the new body with its new tag", async () => {
    const { app, setBody } = setup();
    const old = (await app.request("/")).headers.get("ETag")!;
    setBody(BODY.replace("One", "Two"));
    const response = await app.request("/", { headers: { "If-None-Match": old } });
    expect(response.status).toBe(200);
    expect(response.headers.get("ETag")).not.toBe(old);
    expect(response.headers.get("Cache-Control")).toBeNull();
  });
});

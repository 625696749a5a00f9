import { describe, expect, test } from "bun:test";
import { redactUrl, redactUrlsInText } from "./redact.ts";

describe("redactUrl", () => {
  test.each([
    ["postgres://pg:s3cret@db:5432/crud", "postgres://pg:***@db:5432/crud"],
    ["redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"],
    ["rediss://default:s3cret@cache.internal:6380", "rediss://default:***@cache.internal:6380"],
    ["postgres://host/db?user=app&password=s3cret", "postgres://host/db?user=app&password=***"],
    ["postgres://host/db?sslpassword=s3cret&sslmode=require", "postgres://host/db?sslpassword=***&sslmode=require"],
    ["redis://127.0.0.1:6379/?password=s3cret", "redis://127.0.0.1:6379/?password=***"],
    ["http://h/books?pass=s3cret&passwd=s3cret&pwd=s3cret", "http://h/books?pass=***&passwd=***&pwd=***"],
    ["http://h/books?token=s3cret&api_key=s3cret&client_secret=s3cret#x", "http://h/books?token=***&api_key=***&client_secret=***#x"],
    ["http://h/books?Password=s3cret", "http://h/books?Password=***"],
    ["mysql://u:p@ss/w0rd@h:3306/db", "mysql://u:***@h:3306/db"],
    ["postgres://u:s3cret@", "postgres://u:***@"],
    ["postgres://u:s3cret@h:notaport/db", "postgres://u:***@h:notaport/db"],
    ["pg:s3cret@host/db", "pg:***@host/db"],
    ["postgres://u:my s3cret@host/db", "postgres://u:***@host/db"],
    ["redis://h:6379/?password=a@s3cret", "redis://h:6379/?password=***"],
  ])("hides the credentials of %p", (raw, shown) => {
    expect(redactUrl(raw)).toBe(shown);
    expect(redactUrl(raw)).not.toContain("s3cret");
  });

  test.each([
    "postgres://db:5432/crud",
    "postgres://app@db:5432/crud?sslmode=require&application_name=storagesvc",
    "http://localhost:8082/books?limit=10&after=2",
    "localhost:6379",
    "not a url",
  ])("leaves %p as it is", (raw) => {
    expect(redactUrl(raw)).toBe(raw);
  });
});

describe("redactUrlsInText", () => {
  test("redacts every URL in a message and leaves the words around them", () => {
    const text = 'connect to "postgres://u:s3cret@db/x" failed, then http://h/b?token=s3cret too';
    expect(redactUrlsInText(text)).toBe('connect to "postgres://u:***@db/x" failed, then http://h/b?token=*** too');
  });

  test("leaves text without URLs as it is", () => {
    expect(redactUrlsInText("WRONGPASS invalid username-password pair")).toBe("WRONGPASS invalid username-password pair");
  });
});

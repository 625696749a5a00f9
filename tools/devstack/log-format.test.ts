import { expect, test } from "bun:test";
import { formatLogLine } from "./log-format.ts";

const plain = { color: false, width: 0 };

test("a request log line becomes method, path, status and duration", () => {
  const line = JSON.stringify({
    level: "info",
    time: "2026-01-01T10:00:00.000Z",
    app: "booksvc",
    request_id: "abc",
    method: "GET",
    path: "/",
    status: 200,
    duration_ms: 1.2,
    msg: "request",
  });
  expect(formatLogLine("booksvc", line, plain)).toMatch(/^\d\d:\d\d:\d\d booksvc\s+info\s+GET \/ 200 1\.2ms$/);
});

test("other fields follow the message as key=value, error objects by their message", () => {
  const line = JSON.stringify({ level: "warn", app: "booksvc", msg: "circuit breaker opened", open_ms: 5000, cause: { message: "upstream answered 503" } });
  expect(formatLogLine("booksvc", line, plain)).toMatch(/warn\s+circuit breaker opened {2}open_ms=5000 cause="upstream answered 503"$/);
});

test("a line that is not JSON is shown as it is, and long lines are cut to the width", () => {
  expect(formatLogLine("pglite", "plain text", plain)).toMatch(/pglite\s+plain text$/);
  expect(formatLogLine("pglite", "x".repeat(200), { color: false, width: 40 })).toHaveLength(40);
});

import { expect, test } from "bun:test";
import { reproduceCommand, shellQuote } from "./command.ts";

test("the command names the drill's arguments and the service variables set, never a URL", () => {
  const env = { UPSTREAM_TIMEOUT_MS: "300", BREAKER_OPEN_MS: "1000", DATABASE_URL: "postgres://u:secret@127.0.0.1/db", PATH: "/bin", LOG_LEVEL: "warn" };
  expect(reproduceCommand("drill", ["--duration", "2", "--report", "my report.html"], env)).toBe(
    "UPSTREAM_TIMEOUT_MS=300 BREAKER_OPEN_MS=1000 bun run drill --duration 2 --report 'my report.html'",
  );
});

test("shellQuote quotes only what the shell would split or expand", () => {
  expect(shellQuote("none,combined")).toBe("none,combined");
  expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
});

import { describe, expect, test } from "bun:test";
import { captureLogger } from "../../tools/kit/capture-logger.ts";
import { serializeError } from "./serialize-error.ts";

const SECRET = "s3cret-must-not-leak";

/** What ioredis rejects with when the server refuses the password: the failed command is attached. */
function wrongPassError(): Error {
  return Object.assign(new Error("WRONGPASS invalid username-password pair or user is disabled."), {
    command: { name: "hello", args: ["3", "AUTH", "default", SECRET] },
  });
}


describe("serializeError", () => {
  test.each([
    ["AUTH", "auth", [SECRET]],
    ["AUTH with a user", "AUTH", ["default", SECRET]],
    ["HELLO", "hello", ["3", "AUTH", "default", SECRET]],
    ["MIGRATE", "migrate", ["h", "6379", "k", "0", "1000", "AUTH", SECRET]],
    ["ACL SETUSER", "acl", ["SETUSER", "app", `>${SECRET}`]],
    ["CONFIG SET", "config", ["SET", "requirepass", SECRET]],
  ])("replaces the arguments of %s, keeps the message and the command name", (_name, command, args) => {
    const error = Object.assign(new Error("NOAUTH"), { command: { name: command, args } });
    const serialized = serializeError(error) as Record<string, unknown>;
    expect(JSON.stringify(serialized)).not.toContain(SECRET);
    expect(serialized.message).toBe("NOAUTH");
    expect(serialized.command).toEqual({ name: command, args: ["***"] });
  });

  test("keeps other commands' arguments, shortened", () => {
    const error = Object.assign(new Error("OOM"), { command: { name: "set", args: ["booksvc:books", "x".repeat(5000), "PX", "600000"] } });
    const { command } = serializeError(error) as { command: { args: string[] } };
    expect(command.args[0]).toBe("booksvc:books");
    expect(command.args[1]).toStartWith("x".repeat(100));
    expect(command.args[1]?.length).toBeLessThan(150);
    expect(command.args.slice(2)).toEqual(["PX", "600000"]);
  });

  test("redacts URLs in the message, the stack and other properties, through the cause chain", () => {
    const cause = Object.assign(new Error(`connect to postgres://app:${SECRET}@db/x failed`), {
      path: `http://127.0.0.1:1/books?token=${SECRET}`,
    });
    const error = new Error("storage failed", { cause });
    const serialized = JSON.stringify(serializeError(error));
    expect(serialized).not.toContain(SECRET);
    expect(serialized).toContain("postgres://app:***@db/x");
  });

  test("passes a string through, redacted", () => {
    expect(serializeError(`down: redis://:${SECRET}@h:6379`)).toBe("down: redis://:***@h:6379");
  });
});

describe("the logger's err and error fields", () => {
  test("never carry a Redis password, directly or as a cause", () => {
    const { logger, lines } = captureLogger({ app: "test" });
    logger.warn({ err: wrongPassError() }, "redis failed");
    logger.warn({ err: new Error("cache get failed", { cause: wrongPassError() }) }, "wrapped");
    logger.warn({ error: wrongPassError() }, "under error");
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    const errs = lines.map((l) => l.err as { message: string; command?: unknown } | undefined);
    expect(errs[0]?.message).toContain("WRONGPASS");
    expect(errs[0]?.command).toEqual({ name: "hello", args: ["***"] });
    expect(errs[1]?.message).toContain("WRONGPASS");
  });
});

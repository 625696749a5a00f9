import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { freePort } from "../tools/kit/free-port.ts";
import { ServiceProcess } from "../tools/kit/service-process.ts";

// Bad configuration: nothing starts, one stderr line per problem naming the variable, exit code 2.

setDefaultTimeout(30_000);

const ENTRY = "cmd/storagesvc/main.ts";
/** Nothing listens on port 1, so a test that got past config parsing would not find a database either. */
const VALID_DB = "postgres://postgres@127.0.0.1:1/none";

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function exitOf(env: Record<string, string>, port: number) {
  const service = ServiceProcess.start({ entry: ENTRY, port, env });
  const code = await service.exitWithin(10_000);
  if (code === "still running") await service.stop("SIGKILL");
  return { code, stderr: service.stderr, stdout: service.stdout };
}

describe("storagesvc with bad configuration", () => {
  test.each([
    ["HTTP_PORT", "not-a-port"],
    ["HTTP_PORT", "70000"],
    ["HTTP_PORT", "0"],
  ])("%s=%p exits 2 naming the variable, before logging or listening", async (name, value) => {
    const port = await freePort();
    const { code, stderr, stdout } = await exitOf({ DATABASE_URL: VALID_DB, [name]: value }, port);
    expect(code).toBe(2);
    expect(stderr).toStartWith(`storagesvc: ${name}: got ${JSON.stringify(value)}, expected a port`);
    expect(stdout).toBe("");
  });

  test.each([
    ["DATABASE_URL", "mysql://root@localhost/crud", "a URL starting with postgres://"],
    ["DATABASE_URL", "localhost:5432", "a URL starting with postgres://"],
    ["DB_POOL_MAX", "0", "an integer from 1 to 1000"],
    ["DB_POOL_MAX", "many", "an integer from 1 to 1000"],
    ["LOG_LEVEL", "chatty", "one of debug, info, warn, error"],
  ])("%s=%p exits 2 naming the variable, and nothing listens on HTTP_PORT", async (name, value, accepts) => {
    const port = await freePort();
    const { code, stderr, stdout } = await exitOf({ HTTP_PORT: String(port), DATABASE_URL: VALID_DB, [name]: value }, port);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^storagesvc: ${name}: got .*, expected ${accepts}`))]);
    expect(stdout).toBe("");
    expect(await listening(port)).toBe(false);
  });

  test("reports every bad variable at once, one line each, and never echoes a password", async () => {
    const port = await freePort();
    const { code, stderr } = await exitOf(
      { HTTP_PORT: "x", DATABASE_URL: "mysql://root:topsecret@db/crud", DB_POOL_MAX: "-1", LOG_LEVEL: "loud" },
      port,
    );
    expect(code).toBe(2);
    const lines = stderr.trim().split("\n");
    expect(lines.map((line) => line.split(":")[1]?.trim())).toEqual(["HTTP_PORT", "DATABASE_URL", "DB_POOL_MAX", "LOG_LEVEL"]);
    expect(stderr).not.toContain("topsecret");
  });
});

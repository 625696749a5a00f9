import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../kit/free-port.ts";
import { waitUntil } from "../kit/wait.ts";
import { Replica } from "./replica.ts";

describe("Replica.exitedOnItsOwn", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const replica = async (script: string): Promise<Replica> => {
    const logDir = await mkdtemp(join(tmpdir(), "replica-test-"));
    dirs.push(logDir);
    return new Replica({ name: "booksvc-9", port: await freePort(), command: [process.execPath, "-e", script], env: { PATH: process.env.PATH ?? "" }, logDir });
  };
  const exited = (r: Replica) => waitUntil("the replica exits", async () => (r.running ? "running" : true), { timeoutMs: 10_000, intervalMs: 5 });

  test("names a run that ended without being stopped, with its exit code and last lines", async () => {
    const r = await replica('console.log("about to fail"); process.exit(3)');
    r.start();
    await exited(r);
    const why = r.exitedOnItsOwn();
    expect(why).toContain("booksvc-9 (run 1) exited on its own with code 3");
    expect(why).toContain("about to fail");
  });

  test("says nothing while it runs, nor after the drill stopped or killed it", async () => {
    const r = await replica("setInterval(() => {}, 1000)");
    r.start();
    expect(r.exitedOnItsOwn()).toBeUndefined();
    await r.stop();
    expect(r.exitedOnItsOwn()).toBeUndefined();
    r.start();
    await r.kill();
    expect(r.exitedOnItsOwn()).toBeUndefined();
  });
});

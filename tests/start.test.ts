import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { freePort } from "../tools/kit/free-port.ts";
import { untilFresh } from "../tools/kit/outage-stack.ts";
import { createFreshDatabase, type FreshDatabase, SHARED_POSTGRES_URL } from "../tools/kit/postgres.ts";
import { REPO_ROOT } from "../tools/kit/service-process.ts";

// `bun run start` as a user runs it: on a terminal (a pseudo-terminal from util-linux `script`),
// pressing its keys. DATABASE_URL points it at a fresh database, so no embedded PGlite is needed.
setDefaultTimeout(60_000);

const BREAKER_OPEN_MS = 1_000;

interface Launcher {
  child: Bun.Subprocess<"pipe", "pipe", "pipe">;
  output(): string;
  booksvc: string;
  storagesvc: string;
  press(key: string): void;
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function launch(database: FreshDatabase, options: { terminal: boolean }): Promise<Launcher> {
  const [booksvcPort, storagesvcPort] = [await freePort(), await freePort()];
  const command = `${process.execPath} tools/start.ts`;
  const child = Bun.spawn(options.terminal ? ["script", "-qfec", command, "/dev/null"] : command.split(" "), {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      DATABASE_URL: database.url,
      BOOKSVC_PORT: String(booksvcPort),
      STORAGESVC_PORT: String(storagesvcPort),
      BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
      NO_COLOR: "1",
    },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await child.exited;
  });
  let text = "";
  const onOutput = new Set<() => void>();
  // Read until the child closes stdout; each chunk wakes the waiters. Never rejects: resolves with
  // the read's error, if any, which a waiter then reports at once instead of at its timeout.
  const reading: Promise<unknown> = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      for (const wake of onOutput) wake();
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  const launcher: Launcher = {
    child,
    output: () => text,
    booksvc: `http://127.0.0.1:${booksvcPort}`,
    storagesvc: `http://127.0.0.1:${storagesvcPort}`,
    press(key) {
      child.stdin.write(key);
      void child.stdin.flush();
    },
    waitForOutput(wanted, timeoutMs = 30_000) {
      if (text.includes(wanted)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          onOutput.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = (): void => {
          if (text.includes(wanted)) finish();
        };
        const timer = setTimeout(() => finish(new Error(`start never printed ${JSON.stringify(wanted)}:\n${text}`)), timeoutMs);
        onOutput.add(check);
        // Output ends when the child does: whatever it has not printed by then, it never will.
        void reading.then((readError) => {
          if (!onOutput.has(check)) return;
          const why = readError === undefined ? `start exited ${child.exitCode}` : "reading start's output failed";
          finish(new Error(`${why} without printing ${JSON.stringify(wanted)}:\n${text}`, { cause: readError }));
        });
      });
    },
  };
  return launcher;
}

async function books(url: string): Promise<{ status: number; cacheStatus: string | null }> {
  const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
  await response.body?.cancel();
  return { status: response.status, cacheStatus: response.headers.get("Cache-Status") };
}


async function connectionsTo(database: FreshDatabase): Promise<number> {
  const admin = postgres(SHARED_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = ${database.name}`;
    return row?.n ?? -1;
  } finally {
    await admin.end();
  }
}

async function freshDatabase(): Promise<FreshDatabase> {
  const database = await createFreshDatabase("bookstore_start");
  cleanups.push(() => database.drop());
  return database;
}

describe("bun run start", () => {
  test("on a terminal: d and s take the database and storagesvc down and up, q stops everything", async () => {
    const database = await freshDatabase();
    const start = await launch(database, { terminal: true });
    await start.waitForOutput("keys");
    expect(start.output()).toContain("(strategy combined)");
    expect(await books(start.booksvc)).toEqual({ status: 200, cacheStatus: "booksvc; fwd=miss" });

    start.press("d");
    await start.waitForOutput("database DOWN");
    expect(start.output()).toMatch(/\[\d\d:\d\d:\d\d\] database DOWN/);
    expect(await books(start.booksvc)).toEqual({ status: 200, cacheStatus: "booksvc; hit" });
    start.press("d");
    await start.waitForOutput("database UP");
    await untilFresh(`${start.booksvc}/`, BREAKER_OPEN_MS + 1_000);

    start.press("s");
    await start.waitForOutput("storagesvc DOWN");
    await expect(fetch(`${start.storagesvc}/books`)).rejects.toThrow();
    expect(await books(start.booksvc)).toEqual({ status: 200, cacheStatus: "booksvc; hit" });
    start.press("s");
    await start.waitForOutput("storagesvc UP");
    await untilFresh(`${start.booksvc}/`, BREAKER_OPEN_MS + 1_000);

    start.press("q");
    expect(await start.child.exited).toBe(0);
    await expect(fetch(`${start.booksvc}/healthz`)).rejects.toThrow();
    expect(await connectionsTo(database)).toBe(0);
  });

  test("without a terminal it just runs, and SIGTERM stops every child", async () => {
    const database = await freshDatabase();
    const start = await launch(database, { terminal: false });
    await start.waitForOutput("no terminal");
    expect(await books(start.booksvc)).toEqual({ status: 200, cacheStatus: "booksvc; fwd=miss" });
    start.child.kill("SIGTERM");
    expect(await start.child.exited).toBe(0);
    await expect(fetch(`${start.booksvc}/healthz`)).rejects.toThrow();
    await expect(fetch(`${start.storagesvc}/books`)).rejects.toThrow();
    expect(await connectionsTo(database)).toBe(0);
  });

  test("a bad RESILIENCE_STRATEGY stops it before anything starts, exit 2 naming the variable", async () => {
    const child = Bun.spawn([process.execPath, "tools/start.ts"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", RESILIENCE_STRATEGY: "retries" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await child.exited).toBe(2);
    expect(await new Response(child.stderr).text()).toContain("RESILIENCE_STRATEGY");
  });
});

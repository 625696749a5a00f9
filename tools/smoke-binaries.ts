/**
 * Smoke run of the compiled binaries, each copied alone into an empty directory (as in a
 * container): storagesvc against a fresh database, booksvc in front of it, the books through
 * both, the `healthcheck` subcommand, and a graceful stop on SIGTERM. Exits non-zero on failure.
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./kit/free-port.ts";
import { createFreshDatabase } from "./kit/postgres.ts";
import { REPO_ROOT, ServiceProcess } from "./kit/service-process.ts";

async function isolatedCopy(service: string, scratch: string): Promise<string> {
  const dir = join(scratch, service);
  await Bun.$`mkdir -p ${dir}`;
  const target = join(dir, service);
  await copyFile(join(REPO_ROOT, "dist", service), target);
  await Bun.$`chmod +x ${target}`;
  return target;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`smoke: ${what}`);
  console.log(`ok  ${what}`);
}

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function stopWithin(service: ServiceProcess, name: string, limitMs: number): Promise<void> {
  const started = performance.now();
  const code = await service.stop("SIGTERM");
  const elapsed = Math.round(performance.now() - started);
  check(code === 0 && elapsed < limitMs, `${name} exits 0 on SIGTERM (${elapsed} ms)`);
}

const scratch = await mkdtemp(join(tmpdir(), "bookstore-smoke-"));
const database = await createFreshDatabase("bookstore_smoke");
const running: ServiceProcess[] = [];
try {
  const storagesvcBin = await isolatedCopy("storagesvc", scratch);
  const booksvcBin = await isolatedCopy("booksvc", scratch);

  const storagePort = await freePort();
  const storagesvc = ServiceProcess.start({
    entry: [storagesvcBin],
    cwd: join(scratch, "storagesvc"),
    port: storagePort,
    env: { HTTP_PORT: String(storagePort), DATABASE_URL: database.url },
  });
  running.push(storagesvc);
  await storagesvc.waitFor("/readyz", 200, 15_000);
  const books = await getJson(`${storagesvc.url}/books`);
  check(books.status === 200 && Array.isArray(books.body) && books.body.length === 2, "storagesvc serves the two seeded books");

  const booksPort = await freePort();
  const booksvc = ServiceProcess.start({
    entry: [booksvcBin],
    cwd: join(scratch, "booksvc"),
    port: booksPort,
    env: { HTTP_PORT: `:${booksPort}`, STORAGESVC_URL: `${storagesvc.url}/books`, RESILIENCE_STRATEGY: "combined" },
  });
  running.push(booksvc);
  await booksvc.waitFor("/readyz", 200, 15_000);
  const viaBooksvc = await getJson(`${booksvc.url}/`);
  check(
    viaBooksvc.status === 200 && JSON.stringify(viaBooksvc.body) === JSON.stringify(books.body),
    "booksvc serves the same books",
  );
  check(viaBooksvc.headers.get("Cache-Status") === "booksvc; fwd=miss", "booksvc marks a fresh answer fwd=miss");

  const healthcheck = Bun.spawn([booksvcBin, "healthcheck"], { env: { HTTP_PORT: String(booksPort) } });
  check((await healthcheck.exited) === 0, "`booksvc healthcheck` exits 0 while it runs");

  await stopWithin(booksvc, "booksvc", 2_000);
  await stopWithin(storagesvc, "storagesvc", 2_000);
} finally {
  for (const service of running) await service.stop("SIGKILL", 1_000);
  await database.drop();
  await rm(scratch, { recursive: true, force: true });
}

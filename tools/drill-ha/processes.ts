import { join } from "node:path";
import { freePort } from "../kit/free-port.ts";
import { ServiceProcess } from "../kit/service-process.ts";

/**
 * The services one scenario starts (from source, `bun cmd/<name>/main.ts`), each on a free
 * loopback port; `stopAll()` stops them in reverse order and writes each one's output to the
 * scenario's log directory.
 */
export class ScenarioProcesses {
  readonly #started: Array<{ name: string; service: ServiceProcess }> = [];

  constructor(private readonly logDir: string) {}

  async storagesvc(name: string, databaseUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.#start(name, "cmd/storagesvc/main.ts", { DATABASE_URL: databaseUrl, LOG_LEVEL: "warn", ...env });
  }

  /** booksvc in front of `storagesvcUrl` (its `/books`), `combined`, with the in-memory cache. */
  async booksvc(name: string, storagesvcUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.#start(name, "cmd/booksvc/main.ts", {
      STORAGESVC_URL: `${storagesvcUrl}/books`,
      RESILIENCE_STRATEGY: "combined",
      LOG_LEVEL: "warn",
      ...env,
    });
  }

  async #start(name: string, entry: string, env: Record<string, string>): Promise<ServiceProcess> {
    const port = await freePort();
    const service = ServiceProcess.start({ entry, port, env: { HTTP_PORT: `127.0.0.1:${port}`, ...env } });
    this.#started.push({ name, service });
    return service;
  }

  async stopAll(): Promise<void> {
    for (const { name, service } of this.#started.splice(0).reverse()) {
      await service.stop("SIGTERM", 5_000);
      await Bun.write(join(this.logDir, `${name}.log`), `${service.stdout}${service.stderr}`);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (then throws its reason). */
export async function phase(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
  signal.throwIfAborted();
}

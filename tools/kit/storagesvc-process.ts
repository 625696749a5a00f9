import { freePort } from "./free-port.ts";
import { ServiceProcess } from "./service-process.ts";

/**
 * storagesvc as a real process (`bun cmd/storagesvc/main.ts`) on a free port, reading
 * `databaseUrl`; `env` adds what the test needs (pool size, log level, ...). `cleanup` receives
 * what kills it, for afterEach. Returned at once: each test waits for `/readyz` as it needs to
 * (some expect it never to turn ready).
 */
export async function startStoragesvcProcess(
  databaseUrl: string,
  cleanup: (stop: () => Promise<unknown>) => void,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const service = ServiceProcess.start({
    entry: "cmd/storagesvc/main.ts",
    port,
    // The Go-style form (":8082") the article uses: every storagesvc test then runs it.
    env: { HTTP_PORT: `:${port}`, DATABASE_URL: databaseUrl, ...env },
  });
  cleanup(() => service.stop("SIGKILL"));
  return service;
}

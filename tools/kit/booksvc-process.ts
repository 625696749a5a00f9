import { type FakeUpstream, startFakeUpstream } from "./fake-upstream.ts";
import { freePort } from "./free-port.ts";
import { ServiceProcess } from "./service-process.ts";

/**
 * booksvc as a real process (`bun cmd/booksvc/main.ts`) in front of a fresh fake upstream,
 * answering /healthz. `cleanup` receives what stops both (the process first), for afterEach.
 */
export async function startBooksvcProcess(
  env: Record<string, string>,
  cleanup: (stop: () => Promise<unknown>) => void,
): Promise<{ svc: ServiceProcess; up: FakeUpstream }> {
  const up = await startFakeUpstream();
  cleanup(() => up.close());
  const port = await freePort();
  const svc = ServiceProcess.start({ entry: "cmd/booksvc/main.ts", port, env: { HTTP_PORT: String(port), STORAGESVC_URL: up.url, ...env } });
  cleanup(() => svc.stop("SIGKILL"));
  await svc.waitFor("/healthz");
  return { svc, up };
}

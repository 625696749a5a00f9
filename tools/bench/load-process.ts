/**
 * Runs the load generator (load.ts) as its own process, so it never shares an event loop with the
 * bench that drives it or the service it measures, and returns its LoadResult.
 */
import { join } from "node:path";
import type { LoadOptions, LoadResult } from "./load.ts";
import { REPO_ROOT } from "./processes.ts";

/** Killed (and the promise rejected) when it runs 15 s past its own warm-up plus duration, or when `signal` aborts. */
export async function runLoadProcess(load: LoadOptions, signal?: AbortSignal): Promise<LoadResult> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "load.ts"), JSON.stringify(load)], {
    cwd: REPO_ROOT,
    ...(signal === undefined ? {} : { signal }),
    stdout: "pipe",
    stderr: "inherit",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), load.warmupMs + load.durationMs + 15_000);
  try {
    const [text, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    if (code !== 0) throw new Error(`load generator for ${load.url} exited ${code}`);
    return JSON.parse(text) as LoadResult;
  } finally {
    clearTimeout(timer);
  }
}

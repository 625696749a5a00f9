/**
 * Start-to-first-200 of a compiled binary: spawn, then poll as fast as connection refusals come
 * back until `/healthz` answers 200 (the process serves), then until the main route answers 200
 * (the first real answer). Median over several starts, each a fresh process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileBinary } from "../kit/compile.ts";
import { freePort } from "../kit/free-port.ts";
import { median } from "../kit/stats.ts";
import { waitForHttp } from "../kit/wait.ts";
import { REPO_ROOT, readRssMiB, spawnProcess } from "./processes.ts";

export interface StartupResult {
  binary: string;
  starts: number;
  /** Median ms from spawn to the first 200 on /healthz. */
  healthzMs: number;
  /** Median ms from spawn to the first 200 on the main route (storagesvc /books, booksvc /). */
  firstAnswerMs: number;
  /** Every start's healthz time, in order. */
  allHealthzMs: number[];
  /** Median RSS right after the first answer, MiB. */
  rssAtStartMiB: number;
}

export async function measureStartup(options: {
  binary: string;
  command: string[];
  env: (port: number) => Record<string, string>;
  mainPath: string;
  starts: number;
  signal?: AbortSignal;
}): Promise<StartupResult> {
  const logDir = await mkdtemp(join(tmpdir(), `bench-startup-${options.binary.replace(/[^a-z0-9]+/gi, "-")}-`));
  const healthz: number[] = [];
  const firstAnswer: number[] = [];
  const rss: number[] = [];
  try {
    for (let i = 0; i < options.starts; i++) {
      const port = await freePort();
      const started = performance.now();
      const proc = spawnProcess({ name: `start-${i}`, command: options.command, port, env: options.env(port), logDir });
      // Polled every millisecond on fresh connections: the figure is the time to the first answer.
      const poll = { timeoutMs: 10_000, child: proc.child, intervalMs: 1, freshConnection: true, ...(options.signal === undefined ? {} : { signal: options.signal }) };
      try {
        await waitForHttp(`${proc.url}/healthz`, poll);
        healthz.push(performance.now() - started);
        await waitForHttp(`${proc.url}${options.mainPath}`, poll);
        firstAnswer.push(performance.now() - started);
        rss.push((await readRssMiB(proc.child.pid)) ?? Number.NaN);
      } finally {
        await proc.child.stop(5_000);
      }
    }
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
  return {
    binary: options.binary,
    starts: options.starts,
    healthzMs: median(healthz),
    firstAnswerMs: median(firstAnswer),
    allHealthzMs: healthz.map((ms) => Math.round(ms * 10) / 10),
    rssAtStartMiB: median(rss),
  };
}

/**
 * The ceiling server compiled as the services are, into `dir`: its start is what starting any
 * compiled Bun binary costs on this machine, the baseline the services' starts are read against.
 */
export async function compileBareServer(dir: string): Promise<string> {
  const outfile = join(dir, "bare-server");
  await compileBinary(join(import.meta.dir, "ceiling.ts"), outfile, REPO_ROOT);
  return outfile;
}

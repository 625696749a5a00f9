/**
 * The processes a bench run starts: each service (or the ceiling) as its own process, its stdout
 * (one JSON log line per request at LOG_LEVEL=info) written to a file, as a log shipper would take
 * it, instead of piped into the bench, which must stay out of the way of what it measures.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Child } from "../kit/child.ts";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export interface BenchProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: Child;
  /** VmRSS from /proc/<pid>/status, in MiB; undefined when the process is gone. */
  rssMiB(): Promise<number | undefined>;
}

export function spawnProcess(options: {
  name: string;
  command: string[];
  port: number;
  env: Record<string, string>;
  logDir: string;
}): BenchProcess {
  const child = Child.start({
    name: options.name,
    command: options.command,
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    outputFiles: {
      stdout: join(options.logDir, `${options.name}.log`),
      stderr: join(options.logDir, `${options.name}.stderr.log`),
    },
  });
  return {
    name: options.name,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    child,
    rssMiB: () => readRssMiB(child.pid),
  };
}

export async function readRssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

/**
 * User + system CPU seconds a process (all its threads) has used, from /proc/<pid>/stat; undefined
 * when unreadable (not Linux, process gone). Read synchronously: it is two reads per window.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces, hence the last ')'): utime and stime are
  // the 12th and 13th, in clock ticks; Linux fixes USER_HZ at 100 for user space.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

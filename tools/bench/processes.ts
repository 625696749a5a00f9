/**
 * The processes a bench run starts: each service (or the ceiling) as its own process, its stdout
 * (one JSON log line per request at LOG_LEVEL=info) written to a file, as a log shipper would take
 * it, instead of piped into the bench, which must stay out of the way of what it measures.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Child } from "../kit/child.ts";
import { freePort } from "../kit/free-port.ts";
import { waitForHttp } from "../kit/wait.ts";

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

/**
 * Starts a service (or the ceiling) on a free port, given to it as HTTP_PORT, and resolves once
 * `readyPath` answers 200. A process that never gets ready is stopped before the error is thrown,
 * so the caller only ever holds ready processes.
 */
export async function startReadyProcess(options: {
  name: string;
  command: string[];
  env: Record<string, string>;
  logDir: string;
  readyPath: string;
  signal?: AbortSignal;
}): Promise<BenchProcess> {
  const port = await freePort();
  const proc = spawnProcess({ name: options.name, command: options.command, port, logDir: options.logDir, env: { HTTP_PORT: String(port), ...options.env } });
  try {
    const wait = { timeoutMs: 20_000, child: proc.child, intervalMs: 20 };
    await waitForHttp(`${proc.url}${options.readyPath}`, options.signal === undefined ? wait : { ...wait, signal: options.signal });
    return proc;
  } catch (error) {
    await proc.child.stop(5_000);
    throw error;
  }
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

/**
 * The processes a bench run starts: each service (or the ceiling) as its own process, its stdout
 * (one JSON log line per request at LOG_LEVEL=info) written to a file, as a log shipper would take
 * it, instead of piped into the bench, which must stay out of the way of what it measures.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export interface BenchProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly logPath: string;
  /** VmRSS from /proc/<pid>/status, in MiB; undefined when the process is gone. */
  rssMiB(): Promise<number | undefined>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
  exited: Promise<number>;
}

export function spawnProcess(options: {
  name: string;
  command: string[];
  port: number;
  env: Record<string, string>;
  logDir: string;
}): BenchProcess {
  const logPath = join(options.logDir, `${options.name}.log`);
  const child: Subprocess = Bun.spawn(options.command, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdin: "ignore",
    stdout: Bun.file(logPath),
    stderr: Bun.file(join(options.logDir, `${options.name}.stderr.log`)),
  });
  return {
    name: options.name,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    pid: child.pid,
    logPath,
    exited: child.exited,
    rssMiB: () => readRssMiB(child.pid),
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? -1;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await child.exited;
      } finally {
        clearTimeout(timer);
      }
    },
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

/** Polls `url` until it answers `200`; returns ms since `since`, or throws after `timeoutMs`. */
export async function waitFor200(
  url: string,
  since: number,
  timeoutMs: number,
  exited?: () => boolean,
  pollMs = 1,
): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (exited?.()) throw new Error(`process exited before ${url} answered 200`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000), keepalive: false });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await Bun.sleep(pollMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** The last lines of a process's log files, for error messages. */
export async function tailLogs(proc: BenchProcess, lines = 15): Promise<string> {
  const parts: string[] = [];
  for (const path of [proc.logPath, proc.logPath.replace(/\.log$/, ".stderr.log")]) {
    try {
      const text = await readFile(path, "utf8");
      parts.push(`--- ${path}\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`);
    } catch {
      // no such log
    }
  }
  return parts.join("\n");
}

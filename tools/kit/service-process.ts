import { join } from "node:path";
import { Child } from "./child.ts";
import { waitForHttp } from "./wait.ts";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export type LogLine = Record<string, unknown>;

/**
 * A service started as a real process (`bun cmd/<name>/main.ts` or a compiled binary) for tests
 * and the smoke run: a `Child` whose stdout is also kept whole and parsed as JSON log lines.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  stdout = "";
  stderr = "";
  readonly child: Child;

  private constructor(
    command: string[],
    env: Record<string, string>,
    cwd: string,
    readonly port: number,
  ) {
    this.child = Child.start({
      name: command.at(-1) ?? "service",
      command,
      env,
      cwd,
      onLine: (line, stream) => {
        if (stream === "stderr") {
          this.stderr += `${line}\n`;
          return;
        }
        this.stdout += `${line}\n`;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ unparsed: line });
        }
      },
    });
  }

  /** Starts `cmd/<name>/main.ts` (or a compiled binary) with exactly `env` plus PATH/HOME. */
  static start(options: {
    entry: string | string[];
    port: number;
    env: Record<string, string>;
    args?: string[];
    cwd?: string;
  }): ServiceProcess {
    const command = Array.isArray(options.entry) ? options.entry : [process.execPath, join(REPO_ROOT, options.entry)];
    return new ServiceProcess(
      [...command, ...(options.args ?? [])],
      { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      options.cwd ?? REPO_ROOT,
      options.port,
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Resolves with the exit code once the process has ended and its output is read. */
  get exited(): Promise<number> {
    return this.child.exited;
  }

  /** The exit code, or "still running" when the process has not ended within `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<number | "still running"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<"still running">((resolve) => {
      timer = setTimeout(() => resolve("still running"), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exit code, or null while running. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** Waits until `path` answers `status` (default: /healthz 200), or throws with the output so far. */
  async waitFor(path = "/healthz", status = 200, timeoutMs = 10_000): Promise<void> {
    await waitForHttp(this.url + path, { status, timeoutMs, child: this.child, intervalMs: 25 });
  }

  /** Waits for a log line matching `predicate` (one already logged counts). */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const seen = this.logs.find(predicate);
    if (seen) return seen;
    const line = await this.child.waitForLine((raw) => {
      try {
        return predicate(JSON.parse(raw) as LogLine);
      } catch {
        return predicate({ unparsed: raw });
      }
    }, timeoutMs);
    return JSON.parse(line) as LogLine;
  }

  /** Sends `signal` and waits for the exit code; SIGKILLs after `timeoutMs`. */
  stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 12_000): Promise<number> {
    return this.child.stop(timeoutMs, signal);
  }
}

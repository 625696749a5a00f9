import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export type LogLine = Record<string, unknown>;

/** A service started as a real process (`bun cmd/<name>/main.ts`), with its output captured. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;

  private constructor(
    readonly process: Subprocess<"ignore", "pipe", "pipe">,
    readonly port: number,
  ) {
    this.exited = process.exited;
    void this.collect(process.stdout, (text) => {
      this.stdout += text;
      this.parseLogLines();
    });
    void this.collect(process.stderr, (text) => {
      this.stderr += text;
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
    const command = Array.isArray(options.entry)
      ? options.entry
      : [process.execPath, join(REPO_ROOT, options.entry)];
    const child = Bun.spawn([...command, ...(options.args ?? [])], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    return new ServiceProcess(child, options.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Waits until `path` answers `status` (default: /healthz 200), or throws with the output so far. */
  async waitFor(path = "/healthz", status = 200, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) throw new Error(`process exited ${this.process.exitCode}:\n${this.stderr}\n${this.stdout}`);
      try {
        const response = await fetch(this.url + path, { signal: AbortSignal.timeout(1_000) });
        await response.body?.cancel();
        if (response.status === status) return;
      } catch {
        // not listening yet
      }
      await Bun.sleep(25);
    }
    throw new Error(`${path} did not answer ${status} within ${timeoutMs} ms:\n${this.stderr}\n${this.stdout}`);
  }

  /** Waits for a log line matching `predicate`. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.logs.find(predicate);
      if (line) return line;
      await Bun.sleep(20);
    }
    throw new Error(`no matching log line within ${timeoutMs} ms:\n${this.stdout}`);
  }

  /** Sends `signal` and waits for the exit code; SIGKILLs after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 12_000): Promise<number> {
    if (this.process.exitCode !== null) return this.process.exitCode;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  }

  private parsedUpTo = 0;
  private parseLogLines(): void {
    const end = this.stdout.lastIndexOf("\n") + 1;
    if (end <= this.parsedUpTo) return;
    for (const line of this.stdout.slice(this.parsedUpTo, end).split("\n")) {
      if (line.trim() === "") continue;
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ unparsed: line });
      }
    }
    this.parsedUpTo = end;
  }
}

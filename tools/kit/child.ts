import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";

export type LineHandler = (line: string, stream: "stdout" | "stderr") => void;

export interface ChildOptions {
  /** Short name used in messages (`booksvc`, `storagesvc`, `pglite`). */
  name: string;
  command: string[];
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  cwd?: string;
  /** Called for every output line. */
  onLine?: LineHandler;
  /**
   * Write stdout and stderr to these files instead of reading them, as a log shipper would take
   * them: a benchmark must stay out of the way of what it measures. `tail()` then reads the files.
   */
  outputFiles?: { stdout: string; stderr: string };
}

const TAIL_LINES = 40;

/** `base` without its undefined entries (process.env's type), as a child's environment. */
export function definedEnv(base: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * The one wrapper of a child process in the tooling (the dev stack, drills, bench, tests): its
 * output split into lines, the last ones kept for error reports, and a stop that sends SIGTERM,
 * then SIGKILL if it lingers, so no orphan is left behind.
 */
export class Child {
  readonly exited: Promise<number>;
  private readonly tailLines: string[] = [];
  private readonly listeners = new Set<LineHandler>();

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"ignore", "pipe" | number, "pipe" | number>,
    private readonly outputFiles: ChildOptions["outputFiles"],
    onLine: LineHandler | undefined,
  ) {
    const handle: LineHandler = (line, stream) => {
      this.tailLines.push(line);
      if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
      onLine?.(line, stream);
      for (const listener of this.listeners) listener(line, stream);
    };
    const drained = Promise.all([
      readLines(proc.stdout, (line) => handle(line, "stdout")),
      readLines(proc.stderr, (line) => handle(line, "stderr")),
    ]);
    // Resolve `exited` only once the output is read, so the last lines are never lost.
    this.exited = proc.exited.then(async (code) => {
      await drained;
      return code;
    });
  }

  static start(options: ChildOptions): Child {
    const files = options.outputFiles;
    const proc = Bun.spawn(options.command, {
      cwd: options.cwd,
      env: options.env,
      stdin: "ignore",
      stdout: files ? Bun.file(files.stdout) : "pipe",
      stderr: files ? Bun.file(files.stderr) : "pipe",
    }) as Subprocess<"ignore", "pipe" | number, "pipe" | number>;
    // If this process ends without stopping the child (an uncaught error, process.exit), the child
    // still gets its SIGTERM and stops cleanly instead of living on as an orphan.
    const onExit = () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGCONT");
        proc.kill("SIGTERM");
      }
    };
    process.on("exit", onExit);
    void proc.exited.then(() => process.off("exit", onExit));
    return new Child(options.name, proc, files, options.onLine);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Exit code, or null while running (128 when ended by a signal). */
  get exitCode(): number | null {
    return this.proc.exitCode ?? (this.proc.signalCode ? 128 : null);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last output lines, for error messages. */
  tail(): string {
    if (this.outputFiles === undefined) return this.tailLines.join("\n");
    return Object.values(this.outputFiles)
      .map((path) => `--- ${path}\n${lastLines(path, 15)}`)
      .join("\n");
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  /** Resolves with the first output line `match` accepts; rejects on timeout or exit. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (outcome: string | Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (typeof outcome === "string") resolve(outcome);
        else reject(outcome);
      };
      const listener: LineHandler = (line) => {
        if (match(line)) finish(line);
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.name}: no matching output line within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      this.listeners.add(listener);
      // Ignored once finished: the exit only matters while we are still waiting.
      void this.exited.then((code) => finish(new Error(`${this.name} exited (${code}):\n${this.tail()}`)));
    });
  }

  /** Sends `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 12_000, signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    if (this.running) {
      this.proc.kill("SIGCONT"); // a frozen child cannot handle SIGTERM
      this.proc.kill(signal);
    }
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readLines(stream: ReadableStream<Uint8Array> | number | undefined, onLine: (line: string) => void): Promise<void> {
  if (stream === undefined || typeof stream === "number") return; // written to a file
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== "") onLine(line);
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.decode();
  if (pending.trim() !== "") onLine(pending);
}

function lastLines(path: string, count: number): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-count).join("\n");
  } catch {
    return "(no output)";
  }
}

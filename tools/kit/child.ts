import type { Subprocess } from "bun";

export type LineHandler = (line: string, stream: "stdout" | "stderr") => void;

export interface ChildOptions {
  /** Short name used in messages (`booksvc`, `storagesvc`, `pglite`). */
  name: string;
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Called for every output line. */
  onLine?: LineHandler;
}

const TAIL_LINES = 40;

/**
 * A supervised child process: its output split into lines, the last ones kept for error reports,
 * and a stop that sends SIGTERM, then SIGKILL if it lingers, so no orphan is left behind.
 */
export class Child {
  readonly exited: Promise<number>;
  private readonly tailLines: string[] = [];
  private readonly listeners = new Set<LineHandler>();
  private readonly drained: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    onLine: LineHandler | undefined,
  ) {
    const handle: LineHandler = (line, stream) => {
      this.tailLines.push(line);
      if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
      onLine?.(line, stream);
      for (const listener of this.listeners) listener(line, stream);
    };
    this.drained = Promise.all([
      readLines(proc.stdout, (line) => handle(line, "stdout")),
      readLines(proc.stderr, (line) => handle(line, "stderr")),
    ]).then(() => undefined);
    // Resolve `exited` only once the output is read, so the last lines are never lost.
    this.exited = proc.exited.then(async (code) => {
      await this.drained;
      return code;
    });
  }

  static start(options: ChildOptions): Child {
    const proc = Bun.spawn(options.command, {
      cwd: options.cwd,
      env: options.env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
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
    return new Child(options.name, proc, options.onLine);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Exit code, or null while running. */
  get exitCode(): number | null {
    return this.proc.exitCode ?? (this.proc.signalCode ? 128 : null);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last output lines, for error messages. */
  tail(): string {
    return this.tailLines.join("\n");
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
        () => finish(new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      this.listeners.add(listener);
      // Ignored once finished: the exit only matters while we are still waiting.
      void this.exited.then((code) => finish(new Error(`${this.name} exited (${code}):\n${this.tail()}`)));
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 12_000): Promise<number> {
    if (this.running) {
      this.proc.kill("SIGCONT"); // a frozen child cannot handle SIGTERM
      this.proc.kill("SIGTERM");
    }
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
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

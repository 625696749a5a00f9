import { join } from "node:path";
import { Child } from "../kit/child.ts";
import { waitForHttp } from "../kit/wait.ts";

export interface ReplicaOptions {
  /** `booksvc-1`: its server name in HAProxy too. */
  name: string;
  /** The port it always listens on: a restart comes back on the same one, where HAProxy expects it. */
  port: number;
  /** The binary, e.g. `dist/booksvc`. */
  command: string[];
  /** Its whole environment except HTTP_PORT. */
  env: Record<string, string>;
  /** Each run's stdout and stderr go to `<logDir>/<name>.<run>.log` / `.stderr.log`. */
  logDir: string;
}

/**
 * One replica of a service on a fixed port: started, stopped (SIGTERM, waiting for its exit),
 * killed (SIGKILL) and started again, as an orchestrator would. Its output goes to files, out of
 * the way of what the drill measures.
 */
export class Replica {
  #child: Child | undefined;
  #runs = 0;
  /** Set when the drill stops or kills the current run: its exit is then expected. */
  #ended = false;

  constructor(readonly options: ReplicaOptions) {}

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.port;
  }

  /** `http://127.0.0.1:<port>`: the replica itself, not through HAProxy. */
  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get running(): boolean {
    return this.#child?.running ?? false;
  }

  /** Starts a new process; the previous one must have exited. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.#runs++;
    this.#ended = false;
    const base = join(this.options.logDir, `${this.name}.${this.#runs}`);
    this.#child = Child.start({
      name: this.name,
      command: this.options.command,
      env: { ...this.options.env, HTTP_PORT: String(this.options.port) },
      outputFiles: { stdout: `${base}.log`, stderr: `${base}.stderr.log` },
    });
  }

  /** Waits until its own `/readyz` answers 200. */
  async ready(timeoutMs = 20_000): Promise<number> {
    const child = this.#child;
    if (child === undefined) throw new Error(`${this.name} was never started`);
    return waitForHttp(`${this.url}/readyz`, { timeoutMs, child, intervalMs: 25 });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 20 s); resolves with the exit code. */
  async stop(): Promise<number> {
    this.#ended = true;
    return (await this.#child?.stop(20_000)) ?? 0;
  }

  /** SIGKILL, then waits until the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#ended = true;
    child.signal("SIGKILL");
    await child.exited;
  }

  /**
   * Why the current run is gone when nobody stopped or killed it (a crash, an exit of its own):
   * its exit code and last output lines; undefined while it runs or after a stop or kill.
   */
  exitedOnItsOwn(): string | undefined {
    const child = this.#child;
    if (child === undefined || child.running || this.#ended) return undefined;
    return `${this.name} (run ${this.#runs}) exited on its own with code ${child.exitCode}:\n${child.tail()}`;
  }
}

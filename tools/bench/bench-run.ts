import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFreshDatabase, type FreshDatabase } from "../kit/postgres.ts";
import { type BenchProcess, startReadyProcess } from "./processes.ts";

/**
 * What one run of a bench tool holds, and gives back in `close`: a log directory for its
 * processes' output (kept when the run failed, to read why), the processes it started (stopped
 * last started first), and the database they read (DATABASE_URL as given, else a fresh one,
 * dropped at the end).
 */
export class BenchRun {
  readonly #running: BenchProcess[] = [];
  #database: FreshDatabase | undefined;

  private constructor(
    private readonly tool: string,
    readonly logDir: string,
    private readonly log: (message: string) => void,
  ) {}

  /** `tool` names the log directory (`bookstore-<tool>-…`, temporary) and a fresh database (`bookstore_<tool>_…`). */
  static async open(tool: "bench" | "ab" | "edge", log: (message: string) => void): Promise<BenchRun> {
    return new BenchRun(tool, await mkdtemp(join(tmpdir(), `bookstore-${tool}-`)), log);
  }

  /** DATABASE_URL when set; else a fresh database on the shared PostgreSQL, created once. */
  async databaseUrl(): Promise<string> {
    const given = process.env.DATABASE_URL;
    if (given !== undefined) return given;
    if (this.#database === undefined) {
      this.#database = await createFreshDatabase(`bookstore_${this.tool}`);
      this.log(`fresh database ${this.#database.name}`);
    }
    return this.#database.url;
  }

  /** `startReadyProcess` with its output in this run's log directory; `close` stops it. */
  async start(options: Omit<Parameters<typeof startReadyProcess>[0], "logDir">): Promise<BenchProcess> {
    const proc = await startReadyProcess({ ...options, logDir: this.logDir });
    this.#running.push(proc);
    return proc;
  }

  /** Stops `proc` alone. */
  async stop(proc: BenchProcess): Promise<void> {
    const index = this.#running.indexOf(proc);
    if (index !== -1) this.#running.splice(index, 1);
    await proc.child.stop(5_000);
  }

  /** Stops every process started so far but `keep`. */
  async stopAllBut(keep: BenchProcess): Promise<void> {
    for (const proc of this.#running.splice(0).filter((p) => p !== keep).reverse()) await proc.child.stop(5_000);
    this.#running.push(keep);
  }

  /** Stops every process started so far, last started first. */
  async stopAll(): Promise<void> {
    for (const proc of this.#running.splice(0).reverse()) await proc.child.stop(5_000);
  }

  /** Stops the processes, drops a fresh database, and removes the logs unless the run `failed`. */
  async close(failed: boolean): Promise<void> {
    await this.stopAll();
    await this.#database?.drop();
    this.#database = undefined;
    if (failed) this.log(`service logs kept in ${this.logDir}`);
    else await rm(this.logDir, { recursive: true, force: true });
  }
}

import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

/**
 * A throwaway PostgreSQL cluster for outage tests: its own data directory in a temp dir, its own
 * port, unix sockets in the temp dir. Tests stop, start and restart it at will (same port, same
 * data) to play "the database went away"; `destroy()` removes every trace. The machine's shared
 * PostgreSQL is never touched.
 *
 * initdb and pg_ctl refuse to run as root; when we are root they run as the `postgres` user.
 */
export class PgCluster {
  #running = false;
  #destroyed = false;
  readonly #onExit = () => this.#killSync();

  private constructor(
    /** The temp dir holding `data/`, the server log and the unix sockets. */
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {
    process.on("exit", this.#onExit);
  }

  /**
   * Creates (initdb) a cluster that is NOT started yet: call `start()`. Passing `port` lets a test
   * point a service at a port where nothing listens yet and bring the database up there later.
   * With `password`, user `postgres` has that password and every connection must give it
   * (scram-sha-256); without, trust auth.
   */
  static async create(options: { port?: number; password?: string } = {}): Promise<PgCluster> {
    const bin = postgresBinDir();
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "pgcluster-"));
    const cluster = new PgCluster(dir, port, bin);
    try {
      if (isRoot()) chownSync(dir, ...postgresIds());
      const auth = ["--auth=trust"];
      if (options.password !== undefined) {
        const pwfile = join(dir, "pwfile");
        writeFileSync(pwfile, `${options.password}\n`, { mode: 0o644 });
        auth.splice(0, 1, "--auth=scram-sha-256", `--pwfile=${pwfile}`);
      }
      await cluster.#run("initdb", [
        "-D", cluster.dataDir,
        "-U", "postgres",
        ...auth,
        "--encoding=UTF8",
        "--no-sync",
        "--no-instructions",
      ]);
    } catch (error) {
      await cluster.destroy();
      throw new Error(`initdb failed in ${dir}`, { cause: error });
    }
    return cluster;
  }

  /**
   * A hot standby of `primary` (which must be running): `pg_basebackup -R` copies its data and
   * writes the streaming-replication settings, so the standby follows the primary as soon as it
   * starts. NOT started yet: call `start()`, then `waitUntilStreaming()` on the primary if the test
   * needs the standby caught up. `promote()` turns it into a primary (a failover).
   */
  static async standbyOf(primary: PgCluster, options: { port?: number } = {}): Promise<PgCluster> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "pgstandby-"));
    const standby = new PgCluster(dir, port, postgresBinDir());
    try {
      if (isRoot()) chownSync(dir, ...postgresIds());
      await standby.#run("pg_basebackup", [
        "-h", "127.0.0.1",
        "-p", String(primary.port),
        "-U", "postgres",
        "-D", standby.dataDir,
        "-R", // standby.signal + primary_conninfo: streams from the primary once started
        "-X", "stream",
        "--checkpoint=fast", // do not wait for the primary's next scheduled checkpoint
        "--no-sync",
      ]);
    } catch (error) {
      await standby.destroy();
      throw new Error(`pg_basebackup from port ${primary.port} failed in ${dir}`, { cause: error });
    }
    return standby;
  }

  /** `pg_ctl promote`: a standby stops following its primary and accepts writes; resolves once it does. */
  async promote(): Promise<void> {
    await this.#run("pg_ctl", ["-D", this.dataDir, "-w", "-t", "30", "promote"]);
  }

  get dataDir(): string {
    return join(this.dir, "data");
  }

  get logFile(): string {
    return join(this.dir, "server.log");
  }

  get running(): boolean {
    return this.#running;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>` (no password: add it for a cluster created with one). */
  url(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.#destroyed) throw new Error("cluster destroyed");
    await this.#run("pg_ctl", ["-D", this.dataDir, "-l", this.logFile, "-w", "-t", "30", "-o", this.#serverOptions(), "start"]);
    this.#running = true;
  }

  /**
   * Stops the server. `fast` (default) disconnects clients with an admin-shutdown error and shuts
   * down cleanly; `immediate` is closer to a crash.
   */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (!this.#running) return;
    await this.#run("pg_ctl", ["-D", this.dataDir, "-m", mode, "-w", "-t", "30", "stop"]);
    this.#running = false;
  }

  /**
   * `pg_ctl -m <mode> restart`: stops the server the way `stop(mode)` does and starts it again at
   * once (after `immediate`, with crash recovery); resolves when it accepts connections again.
   */
  async restart(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (this.#destroyed) throw new Error("cluster destroyed");
    const args = ["-D", this.dataDir, "-l", this.logFile, "-m", mode, "-w", "-t", "30", "-o", this.#serverOptions(), "restart"];
    await this.#run("pg_ctl", args);
    this.#running = true;
  }

  /**
   * When the server last logged "ready to accept connections" (epoch ms, to the millisecond), or
   * null if it never did: the moment a restart is over, from the server itself rather than from a
   * client's polling.
   */
  async lastReadyAt(): Promise<number | null> {
    const file = Bun.file(this.logFile);
    if (!(await file.exists())) return null;
    const lines = (await file.text()).split("\n").filter((line) => line.includes("ready to accept connections"));
    // log_line_prefix '%m [%p] ' with log_timezone UTC: "2026-01-02 03:04:05.678 UTC [123] LOG: ..."
    const stamp = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC /.exec(lines.at(-1) ?? "");
    return stamp ? Date.parse(`${stamp[1]}T${stamp[2]}Z`) : null;
  }

  #serverOptions(): string {
    return [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses=127.0.0.1",
      // A throwaway cluster: durability is not the point, speed is.
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      // For failure messages: a client stuck in startup shows as "received" without "authorized".
      "-c log_connections=on",
      "-c log_timezone=UTC",
      // Millisecond timestamps, which lastReadyAt() reads (pg_ctl passes these options through a shell).
      "-c log_line_prefix='%m [%p] '",
    ].join(" ");
  }

  /** Stops the server if it runs and removes the temp dir. Safe to call more than once. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    try {
      await this.stop("immediate");
    } catch {
      this.#killSync();
    } finally {
      this.#destroyed = true;
      process.off("exit", this.#onExit);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Last lines of the server log, for failure messages. */
  async logTail(lines = 30): Promise<string> {
    const file = Bun.file(this.logFile);
    if (!(await file.exists())) return "";
    return (await file.text()).split("\n").slice(-lines).join("\n");
  }

  async #run(tool: string, args: string[]): Promise<void> {
    const command = asPostgresUser([join(this.bin, tool), ...args]);
    const child = Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: this.dir });
    const [code, stdout, stderr] = await Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    if (code !== 0) {
      const log = await this.logTail();
      throw new Error(`${tool} ${args.at(-1)} exited ${code}:\n${stderr}\n${stdout}\n${log}`);
    }
  }

  /**
   * Last resort when the test process exits without `destroy()` (a test timed out, even during
   * initdb): never leave a server or a temp dir behind.
   */
  #killSync(): void {
    if (this.#destroyed) return;
    if (this.#running) {
      Bun.spawnSync(asPostgresUser([join(this.bin, "pg_ctl"), "-D", this.dataDir, "-m", "immediate", "-w", "stop"]), {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      this.#running = false;
    }
    this.#destroyed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `$PG_BIN`, else the newest /usr/lib/postgresql/<version>/bin that has initdb. */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL server binaries under ${root} (set PG_BIN)`);
  return join(root, newest, "bin");
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `command` as the `postgres` user when we are root (PostgreSQL's tools and PgBouncer refuse root). */
export function asPostgresUser(command: string[]): string[] {
  return isRoot() ? ["runuser", "-u", "postgres", "--", ...command] : command;
}

export function postgresIds(): [number, number] {
  const id = (flag: string) => {
    const result = Bun.spawnSync(["id", flag, "postgres"], { stdout: "pipe", stderr: "pipe" });
    const value = Number(result.stdout.toString().trim());
    if (result.exitCode !== 0 || !Number.isInteger(value)) throw new Error("no `postgres` user on this machine");
    return value;
  };
  return [id("-u"), id("-g")];
}

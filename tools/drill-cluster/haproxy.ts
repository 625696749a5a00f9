import { Child, type LineHandler } from "../kit/child.ts";
import { waitUntil } from "../kit/wait.ts";
import { type StatRow, showStat } from "./haproxy-stats.ts";

/** The oldest HAProxy that reads the drill's configuration: `http-check send` came in 2.2 (`retry-on` in 2.0). */
export const MIN_HAPROXY_VERSION = [2, 2] as const;

export interface HaproxyInstallation {
  path: string;
  /** `2.6.12`, from `haproxy -v`. */
  version: string;
}

/** The `haproxy` on PATH and its version, or undefined when there is none. */
export async function findHaproxy(which: (command: string) => string | null = Bun.which): Promise<HaproxyInstallation | undefined> {
  const path = which("haproxy");
  if (path === null) return undefined;
  const probe = Bun.spawn([path, "-v"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [text] = await Promise.all([new Response(probe.stdout).text(), probe.exited]);
  return { path, version: /version (\d+\.\d+(?:\.\d+)?)/i.exec(text)?.[1] ?? "unknown" };
}

/** Whether `version` (`2.6.12`) is at least MIN_HAPROXY_VERSION; an unreadable version passes. */
export function isRecentEnough(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  if (major === undefined || minor === undefined || !Number.isFinite(major) || !Number.isFinite(minor)) return true;
  const [wantMajor, wantMinor] = MIN_HAPROXY_VERSION;
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** `haproxy -f <config> -db` in the foreground as a child, and its admin socket. */
export class Haproxy {
  private constructor(
    readonly child: Child,
    readonly statsSocket: string,
  ) {}

  /** Starts it and waits until its admin socket answers; `onLine` hears its warnings (servers going UP and DOWN). */
  static async start(options: { binary: string; configPath: string; statsSocket: string; onLine?: LineHandler }): Promise<Haproxy> {
    const child = Child.start({
      name: "haproxy",
      command: [options.binary, "-f", options.configPath, "-db"],
      env: { PATH: process.env.PATH ?? "" },
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
    const haproxy = new Haproxy(child, options.statsSocket);
    try {
      await waitUntil("haproxy's admin socket did not answer", async () => (await haproxy.stats(), true), {
        timeoutMs: 10_000,
        intervalMs: 50,
        child,
      });
    } catch (error) {
      await child.stop(2_000);
      throw error;
    }
    return haproxy;
  }

  stats(): Promise<StatRow[]> {
    return showStat(this.statsSocket);
  }

  /** Waits until HAProxy's checks put `server` of `proxy` in `state`; resolves with the ms it took. */
  waitForServer(proxy: string, server: string, state: "UP" | "DOWN", timeoutMs = 15_000): Promise<number> {
    return waitUntil(
      `haproxy did not mark ${proxy}/${server} ${state}`,
      async () => {
        const row = (await this.stats()).find((r) => r.proxy === proxy && r.name === server);
        if (row === undefined) return `no server ${proxy}/${server}`;
        return row.status === state ? true : `${row.status} (${row.checkStatus})`;
      },
      { timeoutMs, intervalMs: 50, child: this.child },
    );
  }

  stop(): Promise<number> {
    return this.child.stop(5_000);
  }
}

/**
 * Whether tests needing haproxy should be skipped: only when it is missing and `CI` is not set;
 * under CI they run, and fail with the drill's own message naming what is missing.
 */
export function skipWithoutHaproxy(): boolean {
  if (process.env.CI) return false;
  const missing = Bun.which("haproxy") === null;
  if (missing) console.warn("haproxy is not on PATH: skipping (apt-get install haproxy; set CI to make this a failure)");
  return missing;
}

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, definedEnv } from "./child.ts";
import { freePort } from "./free-port.ts";
import { waitUntil } from "./wait.ts";

/** The machine's shared Redis. Tests use unique keys in it and never reconfigure it. */
export const SHARED_REDIS_ADDR = process.env.TEST_REDIS_ADDR ?? "127.0.0.1:6379";

/**
 * True when a Redis answers PING at `addr` within `timeoutMs`. Tests use it to
 * skip when Redis is absent, except under `CI`, where they must run (and fail).
 */
export function isRedisReachable(addr: string = SHARED_REDIS_ADDR, timeoutMs = 1000): Promise<boolean> {
  return pingReply(addr, timeoutMs).then((reply) => reply.startsWith("+PONG"));
}

/** The first line a Redis at `addr` answers to PING (`+PONG`, `-NOAUTH ...`), or "" when none within `timeoutMs`. */
function pingReply(addr: string, timeoutMs: number): Promise<string> {
  const colon = addr.lastIndexOf(":");
  const host = addr.slice(0, colon);
  const port = Number(addr.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (line: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => finish(""), timeoutMs);
    let reply = "";
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply);
    });
    socket.once("error", () => finish(""));
  });
}

/** Whether tests needing the shared Redis should be skipped: only when it is unreachable and `CI` is not set. */
export async function skipWithoutSharedRedis(): Promise<boolean> {
  if (process.env.CI) return false;
  const reachable = await isRedisReachable();
  if (!reachable) console.warn(`Redis at ${SHARED_REDIS_ADDR} is unreachable: skipping (set CI to make this a failure)`);
  return !reachable;
}

/** A `redis-server` owned by one test: killed, frozen and restarted at will, on a port of its own. */
export interface ThrowawayRedis {
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly addr: string;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Whether the process is currently running. */
  readonly running: boolean;
  /** SIGKILL, then waits for the process to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: the port keeps accepting connections, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Kills it (if running) and removes its directory. Idempotent. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;

/**
 * Starts `redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no`
 * in a temporary directory and waits until it answers PING. Call `close()` in
 * `afterAll`/`finally`. `port` pins the port (e.g. one a client already
 * points at); otherwise a free one is picked. `args` are more server options,
 * e.g. `["--requirepass", "pw"]` (then `-NOAUTH` counts as an answer) or
 * `["--client-output-buffer-limit", "normal 64mb 64mb 0"]`. `config` lines go to a config file
 * in its directory, read first (a sentinel needs one it can rewrite); `sentinel` starts it as
 * Redis Sentinel (`redis-server <config> --sentinel`).
 */
export async function startThrowawayRedis(
  options: { port?: number; args?: string[]; config?: string[]; sentinel?: boolean } = {},
): Promise<ThrowawayRedis> {
  const dir = await mkdtemp(join(tmpdir(), "throwaway-redis-"));
  const configFile = join(dir, "redis.conf");
  const configArgs = options.config === undefined && !options.sentinel ? [] : [configFile, ...(options.sentinel ? ["--sentinel"] : [])];
  if (configArgs.length > 0) await writeFile(configFile, `${(options.config ?? []).join("\n")}\n`);
  let port = options.port ?? 0;
  let proc: Child | undefined;
  let closed = false;

  const spawn = async (): Promise<void> => {
    const child = Child.start({
      name: `redis-server:${port}`,
      command: ["redis-server", ...configArgs, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...(options.args ?? [])],
      env: definedEnv({ PATH: process.env.PATH, HOME: process.env.HOME }),
    });
    proc = child;
    try {
      // Fails at once, with redis-server's output, if it exits (its port taken, a bad option).
      await waitUntil(
        `redis-server on port ${port} did not answer PING`,
        async () => /^(\+PONG|-NOAUTH)/.test(await pingReply(`127.0.0.1:${port}`, 200)) || "no PONG yet",
        { timeoutMs: READY_TIMEOUT_MS, child, intervalMs: 20 },
      );
    } catch (error) {
      proc = undefined;
      await child.stop(1_000, "SIGKILL");
      throw error;
    }
  };

  const kill = async (): Promise<void> => {
    const child = proc;
    if (child === undefined) return;
    proc = undefined;
    await child.stop(1_000, "SIGKILL");
  };

  try {
    // The free port can be taken between the probe and redis-server's bind: try a few.
    for (let tries = 1; ; tries++) {
      if (options.port === undefined) port = await freePort();
      try {
        await spawn();
        break;
      } catch (err) {
        if (tries >= 3 || options.port !== undefined) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    get port() {
      return port;
    },
    get addr() {
      return `127.0.0.1:${port}`;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get running() {
      return proc !== undefined;
    },
    kill,
    async restart() {
      if (closed) throw new Error("throwaway redis is closed");
      await kill();
      await spawn();
    },
    freeze() {
      proc?.signal("SIGSTOP");
    },
    thaw() {
      proc?.signal("SIGCONT");
    },
    async close() {
      if (closed) return;
      closed = true;
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `bun run start`: the whole bookstore on this machine, nothing else installed.
 *
 *   booksvc :8081 ──▶ storagesvc proxy :8082 ──▶ storagesvc ──▶ database proxy ──▶ PGlite (.data/pglite)
 *
 * The public storagesvc port is its fault proxy, so `s` takes storagesvc down for booksvc and for
 * your curl alike; storagesvc reaches the database only through the database proxy, so `d` works
 * the same on the embedded database and on yours (DATABASE_URL). Keys: d, s, q (or Ctrl-C).
 * Service logs go to the terminal, one short line each; `LOG_LEVEL=warn` quietens them.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { clock, formatLogLine } from "./devstack/log-format.ts";
import { listenForKeys } from "./devstack/keys.ts";
import { type RunningBooksvc, type Stack, startStack } from "./devstack/stack.ts";
import { PROBE_REQUEST_ID_PREFIX, waitForHttp } from "./kit/wait.ts";
import { ConfigError, type EnvRecord, enumVar, portVar, readEnv } from "../internal/config/env.ts";
import { describeError } from "../internal/logging/describe-error.ts";
import { strategyNames, untilAborted } from "../internal/resilience/index.ts";

const ROOT = join(import.meta.dir, "..");

interface StartConfig {
  booksvcPort: number;
  storagesvcPort: number;
  dataDir: string;
  strategy: string;
}

function readConfig(env: EnvRecord): StartConfig {
  const read = readEnv(env, {
    BOOKSVC_PORT: portVar(8081),
    STORAGESVC_PORT: portVar(8082),
    RESILIENCE_STRATEGY: enumVar(strategyNames, "combined"),
  });
  return {
    booksvcPort: read.BOOKSVC_PORT,
    storagesvcPort: read.STORAGESVC_PORT,
    dataDir: join(ROOT, ".data", "pglite"),
    strategy: read.RESILIENCE_STRATEGY,
  };
}

interface Terminal {
  say(text: string): void;
  log(service: string, line: string): void;
}

function terminal(): Terminal {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  return {
    say: (text) => process.stdout.write(`${text}\n`),
    log: (service, line) => {
      // The launcher's own readiness probes are not worth a line each.
      if (line.includes(`"request_id":"${PROBE_REQUEST_ID_PREFIX}`)) return;
      process.stdout.write(`${formatLogLine(service, line, { color, width: process.stdout.columns ?? 0 })}\n`);
    },
  };
}

/** Runs until `signal` aborts or a child dies; resolves with the exit code. */
async function run(config: StartConfig, signal: AbortSignal): Promise<number> {
  const out = terminal();
  const started = performance.now();
  mkdirSync(join(ROOT, ".data"), { recursive: true });
  const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

  out.say(`starting the bookstore (strategy ${config.strategy}) …`);
  const stack: Stack = await startStack({
    root: ROOT,
    env: process.env,
    dataDir: config.dataDir,
    storagesvcPort: config.storagesvcPort,
    publicHost: "0.0.0.0",
    onLine: (service, line) => out.log(service, line),
  });
  const childDied = new AbortController();
  let quitting = false;
  try {
    void stack.storagesvc.exited.then(() => childDied.abort(stack.storagesvc.name));
    // booksvc starts once storagesvc is ready, so no early request opens its breaker for nothing.
    const stopOrDeath = AbortSignal.any([signal, childDied.signal]);
    await Promise.race([stack.ready, untilAborted(stopOrDeath)]);
    stopOrDeath.throwIfAborted();
    const running: RunningBooksvc = await stack.startBooksvc({ port: config.booksvcPort });
    void running.child.exited.then(() => childDied.abort("booksvc"));
    // Fresh books on :8081: the whole chain works.
    await waitForHttp(`${running.url}/`, { timeoutMs: 60_000, child: running.child, signal: stopOrDeath });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    out.say("");
    out.say(bold(`bookstore ready in ${seconds} s`));
    out.say(`  books       http://localhost:${config.booksvcPort}/          (strategy ${config.strategy})`);
    out.say(`  storagesvc  http://localhost:${config.storagesvcPort}/books`);
    out.say(`  database    ${stack.database.display}`);
    out.say(
      `  cache       ${process.env.REDIS_URL || process.env.REDIS_ADDR ? "Redis (REDIS_URL/REDIS_ADDR)" : "in memory (set REDIS_ADDR or REDIS_URL for Redis)"}`,
    );
    out.say(`  metrics     http://localhost:${config.booksvcPort}/metrics, http://localhost:${config.storagesvcPort}/metrics`);
    if (process.stdin.isTTY) {
      out.say(`  keys        ${bold("d")} database down/up   ${bold("s")} storagesvc down/up   ${bold("q")} quit`);
    } else {
      out.say("  no terminal: outage keys disabled; stop with SIGTERM or Ctrl-C");
    }
    out.say("");

    const quit = new AbortController();
    const stopKeys = listenForKeys(process.stdin, (key) => {
      if (key === "q") {
        quitting = true;
        quit.abort("q");
        return;
      }
      const target = key === "d" ? stack.dbProxy : key === "s" ? stack.storagesvcProxy : undefined;
      if (!target) return;
      const name = key === "d" ? "database" : "storagesvc";
      const down = target.mode().kind === "pass";
      // The toggle is echoed at once; a failure to listen again is reported when it happens.
      (down ? target.cut() : target.pass()).then(
        () => {},
        (error: unknown) => out.say(`[${clock(new Date())}] ${name}: cannot come back up: ${String(error)}`),
      );
      out.say(
        bold(
          down
            ? `[${clock(new Date())}] ${name} DOWN  (connections cut, new ones refused; press ${key} again to bring it back)`
            : `[${clock(new Date())}] ${name} UP`,
        ),
      );
    });
    try {
      await untilAborted(AbortSignal.any([stopOrDeath, quit.signal]));
    } finally {
      stopKeys();
    }
  } catch (error) {
    // Ctrl-C while starting is a normal way to leave, not a failure.
    if (!signal.aborted) throw error;
  } finally {
    // On Ctrl-C without raw mode the children get SIGINT too and exit first: that is no death.
    const died =
      childDied.signal.aborted && !signal.aborted && !quitting ? String(childDied.signal.reason) : undefined;
    if (died) out.say(`${died} stopped unexpectedly; stopping everything`);
    out.say("stopping …");
    await stack.stop();
    out.say("stopped");
    if (died) return 1;
  }
  return 0;
}

async function main(): Promise<void> {
  let config: StartConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`start: ${problem}\n`);
    process.exit(2);
  }
  const stop = new AbortController();
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(name, () => stop.abort(name));
  }
  try {
    process.exit(await run(config, stop.signal));
  } catch (error) {
    process.stderr.write(`start: ${describeError(error)}\n`);
    process.exit(1);
  }
}

if (import.meta.main) await main();

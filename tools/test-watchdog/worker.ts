import { writeSync } from "node:fs";
import type { WatchdogMessage } from "./preload.ts";

/**
 * The watchdog's own thread: it keeps time even when the test thread never returns to its event
 * loop (a loop on promise callbacks alone), and ends the whole run when a test outlives its limit.
 */
declare const self: Worker;

let running: { file: string; ordinal: number; limitMs: number; startedAt: number } | undefined;

self.onmessage = (event: MessageEvent<WatchdogMessage>) => {
  const message = event.data;
  running = message.kind === "started" ? { ...message, startedAt: performance.now() } : undefined;
};

setInterval(() => {
  if (running === undefined) return;
  const ranMs = performance.now() - running.startedAt;
  if (ranMs < running.limitMs) return;
  writeSync(
    2,
    `\ntest watchdog: ${running.file}: test #${running.ordinal} of this file (the one after the last result above) ` +
      `has run ${Math.round(ranMs / 1000)} s, past the ${running.limitMs / 1000} s watchdog limit; Bun's own timeout ` +
      `could not end it (a wait inside expect(...).rejects/.resolves, or a loop that never yields). Killing the test run.\n`,
  );
  process.kill(process.pid, "SIGKILL");
}, 250);

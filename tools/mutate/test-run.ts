/**
 * How a run of test files ended:
 * - `passed`: every test passed;
 * - `failed`: at least one test failed, named in `failedTests`;
 * - `error`: bun test failed without a failing test (a file that does not load, say);
 * - `hung`: no end within the time limit, or the test watchdog ended it.
 */
export type TestRunVerdict = "passed" | "failed" | "error" | "hung";

export interface TestRun {
  verdict: TestRunVerdict;
  /** Names of the failing tests, as bun test prints them ("describe > test"). */
  failedTests: string[];
  ms: number;
  /** The run's last output lines, for a report of what went wrong. */
  tail: string[];
}

const TAIL_LINES = 30;

/** What `bun test`'s output and exit code say about the run. */
export function judgeTestRun(code: number | null, output: string, timedOut: boolean): Omit<TestRun, "ms"> {
  const lines = output.split("\n");
  const failedTests = lines.flatMap((line) => {
    const match = /^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line.trimEnd());
    return match === null ? [] : [match[1]!];
  });
  const watchdog = output.includes("test watchdog: ");
  const verdict: TestRunVerdict =
    timedOut || watchdog ? "hung" : code === 0 ? "passed" : failedTests.length > 0 ? "failed" : "error";
  return { verdict, failedTests, tail: lines.slice(-TAIL_LINES) };
}

/** Runs `bun test <files>` in `dir`, ending it (SIGTERM, then SIGKILL) at `timeLimitMs`. */
export async function runTestFiles(dir: string, files: readonly string[], timeLimitMs: number): Promise<TestRun> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, "test", ...files], {
    cwd: dir,
    env: { ...process.env, CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const term = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGTERM");
  }, timeLimitMs);
  const kill = setTimeout(() => proc.kill("SIGKILL"), timeLimitMs + 10_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { ...judgeTestRun(code, `${stdout}\n${stderr}`, timedOut), ms: performance.now() - started };
  } finally {
    clearTimeout(term);
    clearTimeout(kill);
  }
}

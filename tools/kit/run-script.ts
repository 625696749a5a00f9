import { REPO_ROOT } from "./service-process.ts";

/** What a finished script printed, and how it ended. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bun <script> <args>` from the repository root to its end, with only PATH, HOME and `env`
 * in its environment, and returns its exit code and whole output (for tests of the tools).
 */
export async function runScript(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  const child = Bun.spawn([process.execPath, script, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface ScratchCopy {
  dir: string;
  dispose(): void;
}

/**
 * A copy of the working tree's files as they are now (tracked and untracked, not ignored), with
 * `node_modules` linked to the repository's: mutations are made there, never in the checkout.
 */
export function scratchCopy(repoRoot: string): ScratchCopy {
  const listed = Bun.spawnSync(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot });
  if (!listed.success) throw new Error(`git ls-files failed in ${repoRoot}: ${listed.stderr.toString().trim()}`);
  const dir = mkdtempSync(join(tmpdir(), "mutate-"));
  try {
    for (const path of listed.stdout.toString().split("\0")) {
      // Skips a tracked file deleted in the working tree.
      if (path === "" || !existsSync(join(repoRoot, path))) continue;
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      cpSync(join(repoRoot, path), join(dir, path));
    }
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

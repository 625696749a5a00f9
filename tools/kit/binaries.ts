import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "./service-process.ts";

export type ServiceName = "storagesvc" | "booksvc";

/** `dist/<service>`, what `bun run build` makes. */
export function binaryPath(service: ServiceName, root = REPO_ROOT): string {
  return join(root, "dist", service);
}

/** Newest mtime of the TypeScript a binary is built from. */
async function newestSource(root: string): Promise<number> {
  let newest = 0;
  for (const dir of ["cmd", "internal"]) {
    for (const file of await readdir(join(root, dir), { recursive: true })) {
      if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
      newest = Math.max(newest, (await stat(join(root, dir, file))).mtimeMs);
    }
  }
  return newest;
}

/**
 * Builds dist/ binaries that are missing or older than their sources (`bun run build <services>`),
 * so a bench or drill never measures stale code. `log` hears about a build before it starts.
 */
export async function ensureBinaries(
  services: readonly ServiceName[],
  log: (message: string) => void,
  root = REPO_ROOT,
): Promise<void> {
  const sources = await newestSource(root);
  const stale: ServiceName[] = [];
  for (const service of services) {
    const built = await stat(binaryPath(service, root)).catch(() => undefined);
    if (built === undefined || built.mtimeMs < sources) stale.push(service);
  }
  if (stale.length === 0) return;
  log(`building ${stale.join(", ")} (missing or older than the sources)`);
  const build = Bun.spawn([process.execPath, "run", "tools/build.ts", ...stale], { cwd: root, stdout: "ignore", stderr: "inherit" });
  if ((await build.exited) !== 0) throw new Error("bun run build failed");
}

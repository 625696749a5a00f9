/**
 * `bun build --compile` as the release binaries are built, for `bun run build` and for anything
 * that must start the way they do (the bench's bare-server baseline).
 *
 * --format=esm        the entrypoints use top-level await, which --bytecode's default (cjs) rejects.
 * --no-compile-autoload-dotenv / -bunfig
 *                     a deployed binary takes its configuration from its environment only; a stray
 *                     .env or bunfig.toml in whatever directory it happens to start from must not
 *                     silently change it.
 * --sourcemap         embedded in the executable, so stack traces in logs point at our TypeScript.
 * --keep-names        error class names survive minifying: logs say DatabaseUnavailableError, not "Je".
 */
export async function compileBinary(entry: string, outfile: string, cwd: string): Promise<void> {
  const build = Bun.spawn(
    [
      process.execPath,
      "build",
      entry,
      "--compile",
      "--minify",
      "--keep-names",
      "--bytecode",
      "--sourcemap",
      "--format=esm",
      "--target=bun",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      "--outfile",
      outfile,
    ],
    { cwd, stdout: "pipe", stderr: "inherit" },
  );
  const code = await build.exited;
  if (code !== 0) throw new Error(`bun build --compile of ${entry} failed with exit code ${code}`);
}

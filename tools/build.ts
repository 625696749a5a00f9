/**
 * `bun run build`: one standalone executable per service in dist/.
 *
 * --format=esm        the entrypoints use top-level await, which --bytecode's default (cjs) rejects.
 * --no-compile-autoload-dotenv / -bunfig
 *                     a deployed binary takes its configuration from its environment only; a stray
 *                     .env or bunfig.toml in whatever directory it happens to start from must not
 *                     silently change it.
 * --sourcemap         embedded in the executable, so stack traces in logs point at our TypeScript.
 * --keep-names        error class names survive minifying: logs say DatabaseUnavailableError, not "Je".
 */
import { join } from "node:path";

const SERVICES = ["storagesvc", "booksvc"] as const;
const root = join(import.meta.dir, "..");

async function compile(service: string): Promise<void> {
  const started = performance.now();
  const build = Bun.spawn(
    [
      process.execPath,
      "build",
      `cmd/${service}/main.ts`,
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
      `dist/${service}`,
    ],
    { cwd: root, stdout: "pipe", stderr: "inherit" },
  );
  const code = await build.exited;
  if (code !== 0) throw new Error(`bun build of ${service} failed with exit code ${code}`);
  console.log(`dist/${service} (${Math.round(performance.now() - started)} ms)`);
}

const requested = process.argv.slice(2);
const targets = requested.length > 0 ? requested : SERVICES;
for (const service of targets) {
  if (!(await Bun.file(join(root, "cmd", service, "main.ts")).exists())) {
    throw new Error(`cmd/${service}/main.ts does not exist`);
  }
  await compile(service);
}

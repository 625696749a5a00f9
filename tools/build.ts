/** `bun run build`: one standalone executable per service in dist/ (flags: tools/kit/compile.ts). */
import { join } from "node:path";
import { compileBinary } from "./kit/compile.ts";

const SERVICES = ["storagesvc", "booksvc"] as const;
const root = join(import.meta.dir, "..");

const requested = process.argv.slice(2);
const targets = requested.length > 0 ? requested : SERVICES;
for (const service of targets) {
  if (!(await Bun.file(join(root, "cmd", service, "main.ts")).exists())) {
    throw new Error(`cmd/${service}/main.ts does not exist`);
  }
  const started = performance.now();
  await compileBinary(`cmd/${service}/main.ts`, `dist/${service}`, root);
  console.log(`dist/${service} (${Math.round(performance.now() - started)} ms)`);
}

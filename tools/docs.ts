/**
 * `bun run docs`: writes docs/openapi/*.yaml and docs/configuration.md from the code (see
 * tools/docs/). `bun run docs --check` writes nothing and exits 1 when a committed file differs
 * from what would be written, naming it; tools/docs/docs.test.ts does the same in `bun test`.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { generatedDocs } from "./docs/generated.ts";
import { parseFlags, UsageError } from "./kit/args.ts";

const ROOT = join(import.meta.dir, "..");

async function main(): Promise<number> {
  let check: boolean;
  try {
    // Strict: a mistyped --check must not write the files it was meant to check.
    check = parseFlags(process.argv.slice(2), { check: { type: "boolean" } }).check === true;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`docs: ${error.message}\nusage: bun run docs [--check]`);
    return 2;
  }
  const { version } = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  let stale = 0;
  for (const doc of generatedDocs(version)) {
    const path = join(ROOT, doc.path);
    const file = Bun.file(path);
    const wanted = doc.render();
    const current = (await file.exists()) ? await file.text() : undefined;
    if (current === wanted) continue;
    if (check) {
      stale += 1;
      console.error(`${doc.path} is out of date: run \`bun run docs\``);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      await Bun.write(path, wanted);
      console.log(`wrote ${doc.path}`);
    }
  }
  return stale === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();

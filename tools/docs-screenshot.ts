/**
 * `bun run docs:screenshot [drill options]`: runs the drill for the combined strategy with its report
 * (`bun run drill --strategies combined --report …`, any option given is passed on), opens the
 * report in headless Chromium and writes the combined strategy's timeline to docs/drill-combined.png,
 * the picture the README shows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openReport, screenshotReport } from "./report/browser.ts";

const ROOT = join(import.meta.dir, "..");
const OUTPUT = join(ROOT, "docs", "drill-combined.png");
/** CSS pixels: wide enough for the seconds to read, narrow enough for a README. */
const WIDTH = 1100;

async function main(argv: readonly string[]): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), "bookstore-docs-screenshot-"));
  try {
    const report = join(workDir, "drill.html");
    const drill = Bun.spawn([process.execPath, join(ROOT, "tools", "drill.ts"), "--strategies", "combined", ...argv, "--report", report], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
    const code = await drill.exited;
    if (code !== 0) {
      process.stderr.write(`docs:screenshot: the drill ended with exit code ${code}\n`);
      return code;
    }
    const opened = await openReport(report, { width: WIDTH });
    try {
      if (opened.problems.length > 0) throw new Error(`the report has problems:\n${opened.problems.join("\n")}`);
      const index = await opened.page.locator("section.timeline h2").allTextContents();
      const combined = index.indexOf("strategy combined");
      if (combined < 0) throw new Error("the report has no section for the combined strategy (pass --strategies with combined)");
      await screenshotReport(opened.page, OUTPUT, combined);
    } finally {
      await opened.close();
    }
    process.stdout.write(`docs:screenshot: wrote ${OUTPUT} (${Bun.file(OUTPUT).size} bytes)\n`);
    return 0;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));

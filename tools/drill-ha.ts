/**
 * `bun run drill:ha`: the topologies users move to when they outgrow one machine, built for real on
 * loopback, each with load on and a fault injected; one table per scenario. See --help.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Progress } from "./drill/progress.ts";
import { type HaDrillOptions, parseHaDrillOptions, usage } from "./drill-ha/options.ts";
import { pgScenarios } from "./drill-ha/pg-scenarios.ts";
import { redisScenarios } from "./drill-ha/redis-scenarios.ts";
import { haScenarioJson, renderHaScenario } from "./drill-ha/report.ts";
import type { HaScenario, HaScenarioResult } from "./drill-ha/scenario.ts";
import { runTool } from "./kit/run-tool.ts";

const SCENARIOS: readonly HaScenario[] = [...pgScenarios, ...redisScenarios];
const NAMES = SCENARIOS.map((s) => s.name);

async function run(options: HaDrillOptions, signal: AbortSignal): Promise<number> {
  const began = Date.now();
  const progress = new Progress(Boolean(process.stderr.isTTY));
  const elapsed = () => `[${String(Math.round((Date.now() - began) / 1000)).padStart(3)} s]`;
  const logDir = await mkdtemp(join(tmpdir(), "bookstore-drill-ha-"));
  const results: HaScenarioResult[] = [];
  let failed = true;
  try {
    for (const scenario of SCENARIOS.filter((s) => options.only.includes(s.name))) {
      progress.line(`${elapsed()} ${scenario.name}: starting`);
      const scenarioDir = join(logDir, scenario.name);
      await Bun.write(join(scenarioDir, ".keep"), "");
      const result = await scenario.run({
        quick: options.quick,
        logDir: scenarioDir,
        signal,
        event: (text) => progress.line(`${elapsed()} ${scenario.name}: ${text}`),
      });
      results.push(result);
      const table = `\n${renderHaScenario(result)}\n`;
      if (options.json) progress.line(table);
      else process.stdout.write(`${table}\n`);
    }
    failed = results.some((r) => r.checks.some((c) => !c.holds));
  } finally {
    if (failed) progress.line(`drill:ha: logs kept in ${logDir}`);
    else await rm(logDir, { recursive: true, force: true });
  }
  const seconds = Math.round((Date.now() - began) / 1000);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ quick: options.quick, seconds, scenarios: results.map(haScenarioJson) }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `drill:ha took ${seconds} s${options.quick ? " (--quick)" : ""}. books: 200 with a non-empty book list; ` +
        "errors: any other answer, timeouts included; to fresh: from the repair to the end of the first fresh answer; " +
        "wrong: a 200 that is not exactly the page asked for.\n",
    );
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  await runTool({ name: "drill:ha", usage: usage(NAMES), parse: (argv) => parseHaDrillOptions(argv, NAMES), run });
}

import { formatTable } from "../kit/table.ts";
import type { HaScenarioResult } from "./scenario.ts";

const pct = (share: number) => `${(share * 100).toFixed(share === 0 || share === 1 ? 0 : 2)} %`;
const ms = (value: number | undefined) => (value === undefined ? "–" : `${Math.round(value)}`);

/** One scenario as text: its title, its table, the targets (held or not) and what the drill did. */
export function renderHaScenario(result: HaScenarioResult): string {
  const header = ["", "requests", "books", "errors", "p99 ms", "max ms", "to fresh ms", "wrong"];
  const rows = result.rows.map((row) => [
    row.label,
    String(row.requests),
    pct(row.booksShare),
    pct(row.errorShare),
    ms(row.p99Ms),
    ms(row.maxMs),
    ms(row.timeToFreshMs),
    row.wrongAnswers === undefined ? "–" : String(row.wrongAnswers),
  ]);
  const checks = result.checks.map((check) => `${check.holds ? "ok  " : "FAIL"} ${check.name}: ${check.measured}`);
  const events = result.events.map((event) => `  ${(event.atMs / 1000).toFixed(1).padStart(6)} s  ${event.text}`);
  return [`${result.title} (${result.name})`, formatTable(header, rows, { style: "plain" }), ...checks, "events:", ...events].join("\n");
}

/** A scenario for `--json`: everything but the per-request records. */
export function haScenarioJson(result: HaScenarioResult) {
  const { records: _records, ...rest } = result;
  return rest;
}

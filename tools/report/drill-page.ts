import type { DrillOptions } from "../drill/options.ts";
import { renderTable, type ScenarioResult } from "../drill/table.ts";
import { reproduceCommand } from "./command.ts";
import type { ReportPage } from "./html.ts";
import type { RequestRecord } from "../drill/load-worker.ts";
import { type BooksvcSample, buildTimeline, type Timeline, type TimelineWindow } from "./timeline.ts";

/** The strategies whose booksvc has a breaker to chart. */
const WITH_BREAKER = new Set(["breaker", "combined"]);

/** `bun run drill`'s timeline: one group per strategy, its clients and its booksvc. */
export function drillTimeline(input: {
  strategies: readonly string[];
  records: ReadonlyMap<string, readonly RequestRecord[]>;
  /** Each strategy's booksvc readings, by strategy. */
  samples: ReadonlyMap<string, readonly BooksvcSample[]>;
  startedAt: number;
  endedAt: number;
  windows: TimelineWindow[];
}): Timeline {
  return buildTimeline({
    records: input.strategies.flatMap((s) => input.records.get(s) ?? []),
    groups: input.strategies.map((strategy) => ({
      name: strategy,
      pick: (r) => r.target === strategy,
      booksvc: [{ name: `booksvc-${strategy}`, samples: input.samples.get(strategy) ?? [], breaker: WITH_BREAKER.has(strategy) }],
    })),
    startedAt: input.startedAt,
    endedAt: input.endedAt,
    windows: input.windows,
  });
}

export interface DrillRun {
  options: DrillOptions;
  /** The drill's own arguments and environment, for the command that runs it again. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  database: string;
  upstreamTimeoutMs: number;
  seconds: number;
  timeline: Timeline;
  results: readonly ScenarioResult[];
}

/** `bun run drill`'s report: one stack of charts per strategy, all on the same seconds. */
export function drillReportPage(run: DrillRun): ReportPage {
  const { options } = run;
  return {
    title: "bun run drill: each strategy through the same outages",
    summary:
      `${options.strategies.length} booksvc side by side (${options.strategies.join(", ")}), one per strategy, ` +
      `each with ${options.rate} requests per second of its own (open loop), against one storagesvc; ` +
      `${run.results.map((r) => r.title).join("; ")}.`,
    command: reproduceCommand("drill", run.argv, run.env),
    settings: [
      ["strategies", options.strategies.join(", ")],
      ["load per strategy", `${options.rate} req/s open loop, client timeout ${options.clientTimeoutMs / 1000} s`],
      ["each fault", `${options.durationMs / 1000} s`],
      ["UPSTREAM_TIMEOUT_MS", String(run.upstreamTimeoutMs)],
      ["database", run.database],
      ["started", new Date(run.timeline.startedAt).toISOString()],
      ["drill took", `${run.seconds} s`],
    ],
    timeline: run.timeline,
    sections: options.strategies.map((strategy) => ({ title: `strategy ${strategy}`, group: strategy })),
    tables: run.results.map((r) => renderTable(r)),
    notes: [
      "Each second counts the requests the clients started in it: how many, the share answered 200 with books " +
        "(and with fresh books, Cache-Status fwd=miss), their p50 and p99 latency. Upstream calls and the breaker " +
        "state are read from each booksvc's /metrics once a second.",
      "Shaded: the faults. The tables count the requests in flight during each fault; fresh after: from the end " +
        "of the fault to the first fresh answer.",
    ],
  };
}

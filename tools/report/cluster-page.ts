import type { ClusterDrillOptions } from "../drill-cluster/options.ts";
import { type ClusterScenarioResult, renderScenario } from "../drill-cluster/report.ts";
import { reproduceCommand } from "./command.ts";
import type { ReportPage, ReportSection } from "./html.ts";
import type { RequestRecord } from "../drill/load-worker.ts";
import { type BooksvcSample, buildTimeline, type Timeline } from "./timeline.ts";

/**
 * `bun run drill:cluster`'s timeline: one group, the clients calling HAProxy (`target`), with every
 * booksvc replica's upstream calls and breaker; each scenario shaded, what the drill did as events.
 */
export function clusterTimeline(input: {
  records: readonly RequestRecord[];
  target: string;
  /** Every booksvc replica's readings, by replica name. */
  samples: ReadonlyMap<string, readonly BooksvcSample[]>;
  booksvcReplicas: readonly string[];
  results: readonly ClusterScenarioResult[];
  startedAt: number;
  endedAt: number;
}): Timeline {
  const { startedAt } = input;
  return buildTimeline({
    records: input.records,
    groups: [
      {
        name: input.target,
        pick: (r) => r.target === input.target,
        booksvc: input.booksvcReplicas.map((name) => ({ name, samples: input.samples.get(name) ?? [], breaker: true })),
      },
    ],
    startedAt,
    endedAt: input.endedAt,
    windows: input.results.map((r) => ({ name: r.name, label: r.name.replaceAll("-", " "), fromMs: r.startedAt - startedAt, toMs: r.startedAt + r.faultMs - startedAt })),
    events: input.results.flatMap((r) => r.events.map((e) => ({ atMs: r.startedAt - startedAt + e.atMs, text: `${r.name}: ${e.text}` }))),
  });
}

/** Seconds shown before a scenario starts: the cluster as it was. */
const LEAD_IN_S = 3;

export interface ClusterRun {
  options: ClusterDrillOptions;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** What was started, as the drill prints it: replicas, HAProxy, database, Redis. */
  setup: Array<[string, string]>;
  seconds: number;
  warnings: readonly string[];
  timeline: Timeline;
  /** Each scenario, with the epoch ms its recovery was over (the next one could start). */
  results: ReadonlyArray<{ result: ClusterScenarioResult; recoveredAt: number }>;
  /** The timeline group of the clients calling HAProxy. */
  group: string;
}

/** `bun run drill:cluster`'s report: one stack of charts per scenario, from just before it to its recovery. */
export function clusterReportPage(run: ClusterRun): ReportPage {
  const { options, timeline } = run;
  const second = (at: number) => (at - timeline.startedAt) / 1000;
  const sections: ReportSection[] = run.results.map(({ result, recoveredAt }) => ({
    title: result.title,
    group: run.group,
    fromS: Math.max(0, Math.floor(second(result.startedAt)) - LEAD_IN_S),
    toS: Math.min(timeline.seconds, Math.floor(second(recoveredAt))),
  }));
  return {
    title: "bun run drill:cluster: the bookstore as replicas behind HAProxy",
    summary: `${options.rate} requests per second (open loop) call HAProxy all along while the drill runs ${run.results.length} scenarios: ${run.results.map((r) => r.result.name).join(", ")}.`,
    command: reproduceCommand("drill:cluster", run.argv, run.env),
    settings: [
      ["clients", `${options.rate} req/s through HAProxy, open loop, client timeout ${options.clientTimeoutMs / 1000} s`],
      ["outage", `${options.outageMs / 1000} s; a killed replica stays dead ${options.killedMs / 1000} s`],
      ...run.setup,
      ["started", new Date(timeline.startedAt).toISOString()],
      ["drill took", `${run.seconds} s`],
    ],
    timeline,
    sections,
    tables: run.results.map((r) => renderScenario(r.result)),
    notes: [
      "Each second counts the requests the clients started in it through HAProxy: how many, the share answered 200 " +
        "with books (and with fresh books, Cache-Status fwd=miss), their p50 and p99 latency. Upstream calls (summed " +
        "over the booksvc replicas) and each replica's breaker are read from their /metrics once a second.",
      "Shaded: the scenario, from its first step to its last; dashed: what the drill did, listed under each chart.",
      ...run.warnings.map((w) => `warning: ${w}`),
    ],
  };
}

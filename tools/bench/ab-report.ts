import { median } from "../kit/stats.ts";
import { formatTable } from "../kit/table.ts";
import type { LoadResult } from "./load.ts";
import { type LoadSummary, summarizeRounds } from "./load-summary.ts";

/** One round of `bench:ab`: storagesvc direct and every variant, measured back to back. */
export interface AbRound {
  storagesvc: LoadResult;
  variants: Record<string, LoadResult>;
}

/** A target over all rounds: medians, and the range of its ratio to storagesvc direct. */
export interface AbRow {
  name: string;
  medianRps: number;
  /** Each round's req/s over storagesvc direct's in the same round; undefined for storagesvc itself. */
  ratios: number[] | undefined;
  medianCpuUsPerRequest: number | undefined;
  /** Each round's server CPU per request; undefined when a round could not read it. */
  cpuUsPerRequest: number[] | undefined;
  /**
   * Each round's CPU per request over the first variant's in the same round (paired, as the
   * ratios are): how two builds' costs compare on a machine whose speed drifts. Undefined for
   * storagesvc, the first variant, and when CPU could not be read.
   */
  cpuRatios: number[] | undefined;
  /** Network errors and non-2xx answers over all rounds: a variant with any measured something else. */
  errors: number;
}

/** One target's rounds, each summed up on its own (req/s, CPU per request) as the bench sums rounds. */
const eachRound = (name: string, results: readonly LoadResult[]): LoadSummary[] => results.map((result) => summarizeRounds(name, [result]));

const cpuOf = (rounds: readonly LoadSummary[]): number[] | undefined => {
  const cpu = rounds.map((round) => round.serverCpuUsPerRequest);
  return cpu.every((us) => us !== undefined) ? cpu : undefined;
};

function rowOf(name: string, rounds: readonly LoadSummary[], ratios: number[] | undefined, firstCpu?: number[]): AbRow {
  const cpu = cpuOf(rounds);
  return {
    name,
    medianRps: median(rounds.map((round) => round.rps)),
    ratios,
    medianCpuUsPerRequest: cpu === undefined ? undefined : median(cpu),
    cpuUsPerRequest: cpu,
    cpuRatios: cpu === undefined || firstCpu === undefined ? undefined : cpu.map((us, i) => us / firstCpu[i]!),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  };
}

/** storagesvc direct first, then each variant in the order given, ratios paired round by round. */
export function summarizeAb(rounds: readonly AbRound[], variantNames: readonly string[]): AbRow[] {
  const direct = eachRound("storagesvc direct", rounds.map((round) => round.storagesvc));
  const variants = variantNames.map((name) => eachRound(name, rounds.map((round) => round.variants[name]!)));
  const firstCpu = variants.length > 0 ? cpuOf(variants[0]!) : undefined;
  return [
    rowOf("storagesvc direct", direct, undefined),
    ...variants.map((variant, v) =>
      rowOf(variantNames[v]!, variant, variant.map((round, i) => round.rps / direct[i]!.rps), v === 0 ? undefined : firstCpu),
    ),
  ];
}

export function abTable(rows: readonly AbRow[]): string {
  const ratio = (n: number): string => `${n.toFixed(2)} x`;
  const range = (values: readonly number[], format: (n: number) => string): string => `${format(Math.min(...values))} – ${format(Math.max(...values))}`;
  const first = rows[1]?.name ?? "";
  return formatTable(
    ["target", "x storagesvc (median)", "range over rounds", "req/s (median)", "server CPU µs/req (median)", "CPU range over rounds", `CPU x ${first} (median, range)`, "errors"],
    rows.map((row) => [
      row.name,
      row.ratios === undefined ? "" : ratio(median(row.ratios)),
      row.ratios === undefined ? "" : range(row.ratios, ratio),
      row.medianRps.toFixed(0),
      row.medianCpuUsPerRequest?.toFixed(1) ?? "",
      row.cpuUsPerRequest === undefined ? "" : range(row.cpuUsPerRequest, (us) => us.toFixed(1)),
      row.cpuRatios === undefined ? "" : `${ratio(median(row.cpuRatios))} (${range(row.cpuRatios, ratio)})`,
      String(row.errors),
    ]),
    { style: "markdown" },
  );
}

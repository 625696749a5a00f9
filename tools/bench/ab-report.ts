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
  /** Network errors and non-2xx answers over all rounds: a variant with any measured something else. */
  errors: number;
}

/** One target's rounds, each summed up on its own (req/s, CPU per request) as the bench sums rounds. */
const eachRound = (name: string, results: readonly LoadResult[]): LoadSummary[] => results.map((result) => summarizeRounds(name, [result]));

function rowOf(name: string, rounds: readonly LoadSummary[], ratios: number[] | undefined): AbRow {
  const cpu = rounds.map((round) => round.serverCpuUsPerRequest);
  return {
    name,
    medianRps: median(rounds.map((round) => round.rps)),
    ratios,
    medianCpuUsPerRequest: cpu.every((us) => us !== undefined) ? median(cpu) : undefined,
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  };
}

/** storagesvc direct first, then each variant in the order given, ratios paired round by round. */
export function summarizeAb(rounds: readonly AbRound[], variantNames: readonly string[]): AbRow[] {
  const direct = eachRound("storagesvc direct", rounds.map((round) => round.storagesvc));
  return [
    rowOf("storagesvc direct", direct, undefined),
    ...variantNames.map((name) => {
      const variant = eachRound(name, rounds.map((round) => round.variants[name]!));
      return rowOf(name, variant, variant.map((round, i) => round.rps / direct[i]!.rps));
    }),
  ];
}

export function abTable(rows: readonly AbRow[]): string {
  const ratio = (n: number): string => `${n.toFixed(2)} x`;
  return formatTable(
    ["target", "x storagesvc (median)", "range over rounds", "req/s (median)", "server CPU µs/req (median)", "errors"],
    rows.map((row) => [
      row.name,
      row.ratios === undefined ? "" : ratio(median(row.ratios)),
      row.ratios === undefined ? "" : `${ratio(Math.min(...row.ratios))} – ${ratio(Math.max(...row.ratios))}`,
      row.medianRps.toFixed(0),
      row.medianCpuUsPerRequest?.toFixed(1) ?? "",
      String(row.errors),
    ]),
    { style: "markdown" },
  );
}

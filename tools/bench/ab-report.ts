import { median } from "../kit/stats.ts";
import { formatTable } from "../kit/table.ts";
import type { LoadResult } from "./load.ts";

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

const rpsOf = (result: LoadResult): number => result.requests / result.seconds;

function cpuUsPerRequest(result: LoadResult): number | undefined {
  return result.serverCpuSeconds === undefined || result.requests === 0 ? undefined : (result.serverCpuSeconds * 1e6) / result.requests;
}

function rowOf(name: string, results: LoadResult[], ratios: number[] | undefined): AbRow {
  const cpu = results.map(cpuUsPerRequest).filter((us): us is number => us !== undefined);
  return {
    name,
    medianRps: median(results.map(rpsOf)),
    ratios,
    medianCpuUsPerRequest: cpu.length === results.length ? median(cpu) : undefined,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** storagesvc direct first, then each variant in the order given, ratios paired round by round. */
export function summarizeAb(rounds: readonly AbRound[], variantNames: readonly string[]): AbRow[] {
  const direct = rounds.map((round) => round.storagesvc);
  return [
    rowOf("storagesvc direct", direct, undefined),
    ...variantNames.map((name) => {
      const results = rounds.map((round) => round.variants[name]!);
      return rowOf(name, results, results.map((r, i) => rpsOf(r) / rpsOf(direct[i]!)));
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

/** How a table is printed: plain columns for a terminal, or a Markdown table to paste into the README. */
export type TableStyle = "plain" | "markdown";

export interface TableOptions {
  style: TableStyle;
  /** Columns aligned left (default: the first); the others are numbers, aligned right. */
  alignLeft?: ReadonlySet<number>;
}

/** The one table printer of the tooling (drills and bench): columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions): string {
  const alignLeft = options.alignLeft ?? new Set([0]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const pad = (cells: readonly string[]): string[] =>
    widths.map((w, i) => (alignLeft.has(i) ? (cells[i] ?? "").padEnd(w) : (cells[i] ?? "").padStart(w)));
  if (options.style === "plain") {
    const line = (cells: readonly string[]) => pad(cells).join("  ");
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
  }
  const line = (cells: readonly string[]) => `| ${pad(cells).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (alignLeft.has(i) ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

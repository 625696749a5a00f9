/**
 * A drill's report as one self-contained HTML page: the run's settings and the command that
 * reproduces it, per section a stack of per-second charts on one time axis with the fault windows
 * shaded, then the drill's tables. uPlot and the page's script are inlined: the file opens offline.
 */
import { join, resolve } from "node:path";
import type { Timeline } from "./timeline.ts";

/** One stack of charts: one group's timeline over a range of seconds. */
export interface ReportSection {
  title: string;
  /** The timeline group drawn (a strategy, `all clients`). */
  group: string;
  /** The seconds shown, [fromS, toS) of the timeline; the whole run when absent. */
  fromS?: number;
  toS?: number;
}

export interface ReportPage {
  title: string;
  /** One sentence under the title: what was run. */
  summary: string;
  /** The shell command that runs the same drill again. */
  command: string;
  settings: Array<[string, string]>;
  timeline: Timeline;
  sections: ReportSection[];
  /** The drill's plain-text tables, as it printed them. */
  tables: string[];
  /** How to read the page, and warnings of the run. */
  notes: string[];
}

/** Shading of the fault windows, by order of first appearance of their name; no series is drawn in these colours. */
const WINDOW_COLORS = ["#d62728", "#e6550d", "#756bb1", "#c51b8a", "#8c6d31", "#636363", "#31a354", "#3182bd"];

export function windowColors(timeline: Timeline): Record<string, string> {
  const names = [...new Set(timeline.windows.map((w) => w.name))];
  return Object.fromEntries(names.map((name, i) => [name, WINDOW_COLORS[i % WINDOW_COLORS.length] as string]));
}

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
}

/** The browser code and the charting library, inlined into every report. */
export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
  pageJs: string;
}

export async function readReportAssets(): Promise<ReportAssets> {
  const uplotDir = join(Bun.resolveSync("uplot/package.json", import.meta.dir), "..", "dist");
  const [uplotJs, uplotCss, pageJs] = await Promise.all([
    Bun.file(join(uplotDir, "uPlot.iife.min.js")).text(),
    Bun.file(join(uplotDir, "uPlot.min.css")).text(),
    Bun.file(join(import.meta.dir, "page.js")).text(),
  ]);
  return { uplotJs, uplotCss, pageJs };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function renderSection(page: ReportPage, section: ReportSection, index: number, colors: Record<string, string>): string {
  const from = (section.fromS ?? 0) * 1000;
  const to = (section.toS ?? page.timeline.seconds) * 1000;
  const windows = page.timeline.windows.filter((w) => w.toMs > from && w.fromMs < to);
  const events = page.timeline.events.filter((e) => e.atMs >= from && e.atMs < to);
  const legend = windows
    .map(
      (w) =>
        `<li><span class="swatch" style="background:${colors[w.name]}"></span>${escapeHtml(w.label)}: ` +
        `${seconds(w.fromMs)} to ${seconds(w.toMs)}</li>`,
    )
    .join("");
  const eventList = events.map((e) => `<li><span class="at">${seconds(e.atMs)}</span> ${escapeHtml(e.text)}</li>`).join("");
  return `<section class="timeline" id="section-${index}" data-section="${index}">
<h2>${escapeHtml(section.title)}</h2>
${legend ? `<ul class="windows" aria-label="fault windows (shaded)">${legend}</ul>` : ""}
<div class="charts"></div>
${eventList ? `<details class="events"><summary>what the drill did (dashed lines)</summary><ol>${eventList}</ol></details>` : ""}
</section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 0 auto; padding: 1em 1.5em 3em; max-width: 1280px; background: #fff; }
h1 { font-size: 1.5em; margin: 0.2em 0; }
section.timeline { padding: 0 0.4em; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.3em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
code, pre { font: 12.5px/1.4 ui-monospace, monospace; }
.command { background: #f4f4f4; padding: 0.5em 0.8em; border-radius: 4px; overflow-x: auto; white-space: pre-wrap; }
table.settings { border-collapse: collapse; margin: 0.5em 0; }
table.settings td { padding: 0.1em 1em 0.1em 0; vertical-align: top; }
table.settings td:first-child { color: #666; }
.notes li { color: #444; }
ul.windows { list-style: none; padding: 0; margin: 0.2em 0 0.4em; display: flex; flex-wrap: wrap; gap: 0.3em 1.4em; }
.swatch { display: inline-block; width: 1.4em; height: 0.9em; margin-right: 0.4em; vertical-align: -0.1em; opacity: 0.35; border-radius: 2px; }
.charts .uplot { margin: 0 0 0.3em; }
.charts .u-title { font-size: 13px; font-weight: 600; text-align: left; padding-left: 72px; }
.charts .u-legend { font-size: 12px; text-align: left; padding-left: 76px; margin-top: -4px; }
.charts .u-legend .u-series:first-child { display: none; }
/* The values under the cursor, shown only while it is over the charts. */
.charts:not(:hover) .u-legend .u-value { display: none; }
.charts:not(:hover) .u-legend th::after { content: ""; }
.events ol { columns: 2; font-size: 13px; }
.events .at { color: #666; display: inline-block; min-width: 4em; }
pre.table { background: #fafafa; border: 1px solid #eee; padding: 0.6em 0.8em; overflow-x: auto; }
`;

/** The whole page, ready to be written to a file. */
export function renderReportHtml(page: ReportPage, assets: ReportAssets): string {
  const colors = windowColors(page.timeline);
  const data = { timeline: page.timeline, sections: page.sections, windowColors: colors };
  const settings = page.settings.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${assets.uplotCss}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.summary)}</p>
<p>To run it again:</p>
<pre class="command"><code>${escapeHtml(page.command)}</code></pre>
<table class="settings">${settings}</table>
${page.notes.length > 0 ? `<ul class="notes">${page.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : ""}
</header>
<main>
${page.sections.map((s, i) => renderSection(page, s, i, colors)).join("\n")}
<h2>Tables</h2>
${page.tables.map((t) => `<pre class="table">${escapeHtml(t)}</pre>`).join("\n")}
</main>
<script>${assets.uplotJs}</script>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${assets.pageJs}</script>
</body>
</html>
`;
}

/** Writes the page to `path` (relative to the working directory), with its assets inlined; returns the absolute path. */
export async function writeReportHtml(path: string, page: ReportPage): Promise<string> {
  const absolute = resolve(path);
  await Bun.write(absolute, renderReportHtml(page, await readReportAssets()));
  return absolute;
}

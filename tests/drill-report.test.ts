import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChartInspection, inspectCharts, type OpenedReport, openReport, screenshotReport } from "../tools/report/browser.ts";
import type { Timeline } from "../tools/report/timeline.ts";
import { createFreshDatabase, type FreshDatabase } from "../tools/kit/postgres.ts";
import { runScript, type ScriptRun } from "../tools/kit/run-script.ts";
import { REPO_ROOT } from "../tools/kit/service-process.ts";

// `bun run drill --report` end to end: a short real drill (booksvc `none` and `combined`, faults of
// 2 s, a fresh database on the shared PostgreSQL), its report opened in Debian's headless Chromium
// with the network refused. The screenshot is kept in .artifacts/ for whoever reads the CI run.
setDefaultTimeout(180_000);

const SCREENSHOT = join(REPO_ROOT, ".artifacts", "drill-report", "drill-report.png");
const FAULTS = ["database down", "storagesvc down", "frozen storagesvc", "database slow"];

describe("bun run drill --report (short faults), in a headless browser", () => {
  let database: FreshDatabase | undefined;
  let workDir = "";
  let run: ScriptRun;
  let timeline: Timeline | undefined;
  let opened: OpenedReport | undefined;
  let charts: ChartInspection[] = [];

  beforeAll(async () => {
    database = await createFreshDatabase("bookstore_drill_report");
    workDir = await mkdtemp(join(tmpdir(), "bookstore-drill-report-"));
    const report = join(workDir, "drill.html");
    run = await runScript("tools/drill.ts", ["--duration", "2", "--strategies", "none,combined", "--json", "--report", report], {
      DATABASE_URL: database.url,
    });
    if (run.code !== 0) return;
    timeline = (JSON.parse(run.stdout) as { timeline: Timeline }).timeline;
    opened = await openReport(report);
    charts = await inspectCharts(opened.page);
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await screenshotReport(opened.page, SCREENSHOT);
    console.log(`drill report screenshot: ${SCREENSHOT}`);
  }, 180_000);

  afterAll(async () => {
    await opened?.close();
    await database?.drop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test("the drill ran, and --json holds each strategy's per-second timeline with the four faults", () => {
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(timeline?.windows.map((w) => w.label)).toEqual(FAULTS);
    expect(timeline?.groups.map((g) => g.name)).toEqual(["none", "combined"]);
    for (const group of timeline?.groups ?? []) {
      expect(group.requests.length).toBe(timeline?.seconds ?? -1);
      expect(group.requests.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(group.upstreamCalls.some((c) => c !== null && c > 0)).toBe(true);
    }
    // Only combined has a breaker, and it opened during the faults.
    expect(timeline?.groups.map((g) => g.breakers.length)).toEqual([0, 1]);
    expect(timeline?.groups[1]?.breakers[0]?.state).toContain(1);
  });

  test("the page opens offline with no console error", () => {
    expect(opened?.problems).toEqual([]);
  });

  test("every chart drew every series it has data for: its colour is on the canvas", () => {
    // none: requests, books, latency, upstream calls; combined: the same and its breaker.
    expect(charts.map((c) => c.section)).toEqual([...Array(4).fill("strategy none"), ...Array(5).fill("strategy combined")]);
    for (const chart of charts) {
      for (const series of chart.series) {
        const seen = { chart: `${chart.section}: ${chart.title}`, series: series.label, drawn: series.points > 0 && series.pixels > 20 };
        expect(seen).toEqual({ ...seen, drawn: true });
      }
    }
  });

  test("the fault windows are shaded in every chart, and only there; labelled above the charts", async () => {
    for (const chart of charts) {
      const where = `${chart.section}: ${chart.title}`;
      expect({ where, windows: chart.windows.map((w) => w.label) }).toEqual({ where, windows: FAULTS });
      for (const w of chart.windows) expect({ where, window: w.label, shaded: w.shadedShare > 0.5 }).toEqual({ where, window: w.label, shaded: true });
      // Outside the windows, at most the antialiased edge of a line looks like shading.
      expect({ where, shadedOutside: (chart.shadedShareOutside ?? 1) < 0.05 }).toEqual({ where, shadedOutside: true });
    }
    const legends = await opened?.page.locator("ul.windows").allTextContents();
    expect(legends?.length).toBe(2);
    for (const legend of legends ?? []) for (const fault of FAULTS) expect(legend).toContain(fault);
  });

  test("the settings, the command that runs it again and the drill's tables are on the page", async () => {
    const text = (await opened?.page.locator("body").innerText()) ?? "";
    expect(text).toContain("bun run drill --duration 2 --strategies none,combined --json --report");
    expect(text).toContain("load per strategy");
    for (const title of ["database down for 2 s, then back", "storagesvc down for 2 s, then back"]) expect(text).toContain(title);
  });
});

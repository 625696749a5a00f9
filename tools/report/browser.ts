/**
 * A drill report in a real headless browser: the system's Chromium driven by playwright-core, with
 * a fresh profile and every network request refused, so a report that needs the network shows it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's `chromium` package, found on PATH. */
export function chromiumPath(): string | undefined {
  return Bun.which("chromium") ?? undefined;
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface OpenedReport {
  page: Page;
  /** Console errors, uncaught page errors and refused network requests, in order. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens the report at `path` (a file) at `width` CSS pixels and waits until its script has drawn every chart. */
export async function openReport(path: string, { width = 1280, executablePath = chromiumPath() } = {}): Promise<OpenedReport> {
  if (executablePath === undefined) throw new Error("no chromium on PATH: apt-get install chromium");
  const profile = await mkdtemp(join(tmpdir(), "bookstore-report-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: CHROMIUM_ARGS,
      viewport: { width, height: 900 },
      deviceScaleFactor: 1,
      timeout: 60_000,
    });
    const fileUrl = pathToFileURL(resolve(path)).href;
    const problems: string[] = [];
    // The report must open offline: any request but the file itself is refused and reported.
    await context.route("**/*", (route) => {
      if (route.request().url() === fileUrl) return route.continue();
      problems.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(fileUrl, { waitUntil: "load" });
    await page.waitForFunction(() => Array.isArray((globalThis as { reportCharts?: unknown }).reportCharts), undefined, { timeout: 10_000 });
    const opened = context;
    return {
      page,
      problems,
      close: async () => {
        await opened.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** What one chart drew, read back from its canvas. */
export interface ChartInspection {
  section: string;
  title: string;
  /** Per series: values it has, and canvas pixels in its colour. */
  series: Array<{ label: string; points: number; pixels: number }>;
  /** Per fault window: share (0–1) of the plot's height shaded in its colour (the most of three columns across it). */
  windows: Array<{ label: string; shadedShare: number }>;
  /** Share of the plot's height shaded in any window colour at the first second outside every window. */
  shadedShareOutside: number | null;
}

/** Reads every chart's canvas back: the series' colours, and the fault windows' shading. */
export function inspectCharts(page: Page): Promise<ChartInspection[]> {
  return page.evaluate(() => {
    interface Chart {
      section: string;
      title: string;
      uplot: { ctx: { canvas: { width: number; height: number }; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }; bbox: { left: number; top: number; width: number; height: number }; valToPos(v: number, scale: string, canvas: boolean): number; scales: { x: { min?: number; max?: number } } };
      windows: Array<{ label: string; color: string; fromS: number; toS: number }>;
      series: Array<{ label: string; color: string; points: number }>;
    }
    const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    const charts = (globalThis as unknown as { reportCharts: Chart[] }).reportCharts;
    return charts.map((chart) => {
      const { ctx, bbox } = chart.uplot;
      const { width, height } = ctx.canvas;
      const pixels = ctx.getImageData(0, 0, width, height).data;
      const like = (i: number, color: number[], minAlpha: number, maxAlpha: number) =>
        Math.abs((pixels[i] ?? 0) - (color[0] ?? 0)) <= 12 &&
        Math.abs((pixels[i + 1] ?? 0) - (color[1] ?? 0)) <= 12 &&
        Math.abs((pixels[i + 2] ?? 0) - (color[2] ?? 0)) <= 12 &&
        (pixels[i + 3] ?? 0) >= minAlpha &&
        (pixels[i + 3] ?? 0) <= maxAlpha;
      // Lines are opaque (antialiased edges aside); the shading is drawn at 16 % opacity.
      const countLike = (color: number[]) => {
        let n = 0;
        for (let i = 0; i < pixels.length; i += 4) if (like(i, color, 100, 255)) n++;
        return n;
      };
      const shadedShare = (x: number, colors: number[][]) => {
        const column = Math.round(x);
        let shaded = 0;
        for (let y = Math.ceil(bbox.top); y < bbox.top + bbox.height; y++) {
          const i = (y * width + column) * 4;
          if (colors.some((c) => like(i, c, 20, 70))) shaded++;
        }
        return shaded / bbox.height;
      };
      const min = chart.uplot.scales.x.min ?? 0;
      const outside = [...Array(Math.ceil((chart.uplot.scales.x.max ?? 0) - min)).keys()]
        .map((s) => min + s + 0.5)
        .find((s) => chart.windows.every((w) => s < w.fromS - 0.5 || s > w.toS + 0.5));
      return {
        section: chart.section,
        title: chart.title,
        series: chart.series.map((s) => ({ label: s.label, points: s.points, pixels: countLike(rgb(s.color)) })),
        windows: chart.windows.map((w) => ({
          label: w.label,
          // Three columns across the window: a grid line may cross one.
          shadedShare: Math.max(
            ...[0.3, 0.5, 0.7].map((f) => shadedShare(chart.uplot.valToPos(w.fromS + f * (w.toS - w.fromS), "x", true), [rgb(w.color)])),
          ),
        })),
        shadedShareOutside:
          outside === undefined ? null : shadedShare(chart.uplot.valToPos(outside, "x", true), chart.windows.map((w) => rgb(w.color))),
      };
    });
  });
}

/** A screenshot of the whole page, or of one section (`#section-<index>`), written to `path`. */
export async function screenshotReport(page: Page, path: string, sectionIndex?: number): Promise<void> {
  if (sectionIndex === undefined) await page.screenshot({ path, fullPage: true });
  else await page.locator(`#section-${sectionIndex}`).screenshot({ path });
}

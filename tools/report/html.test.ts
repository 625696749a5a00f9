import { expect, test } from "bun:test";
import { type ReportPage, readReportAssets, renderReportHtml, scriptJson } from "./html.ts";

const page: ReportPage = {
  title: "a drill </script>",
  summary: "what ran",
  command: "bun run drill --report x.html",
  settings: [["clients", "16"]],
  timeline: {
    startedAt: 0,
    bucketMs: 1000,
    seconds: 2,
    windows: [{ name: "database-down", label: "database down", fromMs: 500, toMs: 1500 }],
    events: [{ atMs: 700, text: "replica <b> restarted" }],
    groups: [{ name: "combined", requests: [1, 2], booksPct: [100, 50], freshPct: [100, 0], p50Ms: [1, 2], p99Ms: [1, 2], upstreamCalls: [1, 0], breakers: [] }],
  },
  sections: [{ title: "strategy combined", group: "combined" }],
  tables: ["a | b\n1 | 2"],
  notes: ["how to read it"],
};

test("the page holds uPlot, its script and its data inline, and names nothing to fetch", async () => {
  const html = renderReportHtml(page, await readReportAssets());
  expect(html).toContain("var uPlot=");
  expect(html).toContain('id="report-data"');
  expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
  expect(html).not.toMatch(/https?:\/\/(?!github\.com\/leeoniya)/);
});

test("text from the run is escaped, in the markup and in the embedded JSON", async () => {
  const html = renderReportHtml(page, await readReportAssets());
  expect(html).toContain("<title>a drill &lt;/script&gt;</title>");
  expect(html).toContain("replica &lt;b&gt; restarted");
  expect(html.match(/<\/script>/g)?.length).toBe(3);
  expect(JSON.parse(scriptJson({ text: "</script><!--" }))).toEqual({ text: "</script><!--" });
  expect(scriptJson({ text: "</script>" })).not.toContain("<");
});

test("a section lists its fault windows, with the times they were shaded", async () => {
  const html = renderReportHtml(page, await readReportAssets());
  expect(html).toContain("database down: 0.5 s to 1.5 s");
});

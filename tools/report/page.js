// The report's browser code (plain JS, inlined by tools/report/html.ts after uPlot): draws each
// section's per-second charts on one time axis, fault windows shaded and labelled, events dashed.
// Every chart is listed in window.reportCharts, for the report's browser test.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const { timeline, sections, windowColors } = data;
  const BREAKER_LABELS = ["closed", "half-open", "open"];
  // booksvc_breaker_state is 0 closed, 1 open, 2 half-open; drawn in the order closed < half-open < open.
  const breakerLevel = (state) => (state === null ? null : [0, 2, 1][state] ?? null);
  // Series colours stay clear of the fault windows' (html.ts WINDOW_COLORS).
  const BREAKER_COLORS = ["#1f77b4", "#2ca02c", "#222222", "#e6ab02"];

  const CHARTS = [
    {
      title: "requests started per second",
      series: (g) => [{ label: "requests", values: g.requests, stroke: "#1f77b4", width: 2 }],
      yMin: 0,
    },
    {
      title: "answered with books, % of the requests started that second",
      series: (g) => [
        { label: "with books", values: g.booksPct, stroke: "#2ca02c", width: 2 },
        { label: "fresh from storagesvc", values: g.freshPct, stroke: "#17becf", dash: [5, 4] },
      ],
      range: [0, 105],
      unit: "%",
    },
    {
      title: "latency of the requests started that second, ms (log scale)",
      series: (g) => [
        { label: "p50", values: g.p50Ms, stroke: "#1f77b4" },
        { label: "p99", values: g.p99Ms, stroke: "#222222", width: 2 },
      ],
      log: true,
      unit: " ms",
    },
    {
      title: "upstream calls reaching storagesvc per second (booksvc_upstream_calls_total)",
      series: (g) => [{ label: "upstream calls", values: g.upstreamCalls, stroke: "#8c564b", width: 2 }],
      yMin: 0,
    },
    {
      title: "circuit breaker (booksvc_breaker_state)",
      // Several replicas: each line a little apart, so that closed breakers do not hide one another.
      series: (g) =>
        g.breakers.map((b, i) => ({
          label: g.breakers.length === 1 ? "breaker" : b.booksvc,
          values: b.state.map((s) => {
            const level = breakerLevel(s);
            return level === null ? null : level + (i - (g.breakers.length - 1) / 2) * 0.07;
          }),
          stroke: BREAKER_COLORS[i % BREAKER_COLORS.length],
          width: 2,
          stepped: true,
        })),
      breaker: true,
    },
  ];

  // One width for every y axis, so the charts of a section share their x positions.
  const Y_AXIS_SIZE = 84;
  const milliseconds = (v) => (v === null ? "" : v >= 1000 ? `${v / 1000} s` : `${v} ms`);
  /** A log axis marked at the powers of ten only. */
  const decades = (_u, _axis, min, max) => {
    const marks = [];
    for (let v = 10 ** Math.floor(Math.log10(Math.max(min, 0.1))); v <= max * 1.0001; v *= 10) if (v >= min * 0.9999) marks.push(Math.round(v * 10) / 10);
    return marks;
  };
  const formatValue = (unit) => (_u, v) => (v === null || v === undefined ? "–" : `${Math.round(v * 10) / 10}${unit ?? ""}`);

  /** Shades the fault windows under the series; labels them on the section's first chart; dashes the events. */
  function windowsPlugin(windows, events, labelled) {
    const px = (u, s) => u.valToPos(s, "x", true);
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            for (const w of windows) {
              const x0 = Math.max(bbox.left, px(u, w.fromMs / 1000));
              const x1 = Math.min(bbox.left + bbox.width, px(u, w.toMs / 1000));
              if (x1 <= x0) continue;
              ctx.globalAlpha = 0.16;
              ctx.fillStyle = windowColors[w.name];
              ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            const dpr = window.devicePixelRatio || 1;
            ctx.save();
            ctx.strokeStyle = "rgba(0,0,0,0.45)";
            ctx.lineWidth = dpr;
            ctx.setLineDash([4 * dpr, 4 * dpr]);
            for (const e of events) {
              const x = Math.round(px(u, e.atMs / 1000));
              if (x < bbox.left || x > bbox.left + bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, bbox.top);
              ctx.lineTo(x, bbox.top + bbox.height);
              ctx.stroke();
            }
            if (labelled) {
              ctx.setLineDash([]);
              ctx.textAlign = "left";
              ctx.font = `600 ${12 * dpr}px system-ui, sans-serif`;
              ctx.textBaseline = "top";
              for (const w of windows) {
                const x = Math.max(bbox.left, px(u, w.fromMs / 1000)) + 4 * dpr;
                ctx.fillStyle = windowColors[w.name];
                ctx.fillText(w.label, x, bbox.top + 3 * dpr);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  window.reportCharts = [];
  const width = () => Math.max(480, document.querySelector("main").clientWidth);

  sections.forEach((section, index) => {
    const group = timeline.groups.find((g) => g.name === section.group);
    const container = document.querySelector(`#section-${index} .charts`);
    if (!group || !container) return;
    const from = section.fromS ?? 0;
    const to = section.toS ?? timeline.seconds;
    // Each value drawn at the middle of its second.
    const xs = [];
    for (let s = from; s < to; s++) xs.push(s + 0.5);
    const slice = (values) => values.slice(from, to);
    const windows = timeline.windows.filter((w) => w.toMs > from * 1000 && w.fromMs < to * 1000);
    const events = timeline.events.filter((e) => e.atMs >= from * 1000 && e.atMs < to * 1000);
    const charts = CHARTS.map((chart) => ({ chart, series: chart.series(group) })).filter((c) => c.series.length > 0);
    charts.forEach(({ chart, series }, position) => {
      const first = position === 0;
      const last = position === charts.length - 1;
      const opts = {
        title: chart.title,
        width: width(),
        height: (chart.breaker ? 110 : 150) + (last ? 48 : 32),
        cursor: { sync: { key: `section-${index}` }, drag: { x: false, y: false } },
        scales: {
          x: { time: false, range: [from, to] },
          y: chart.log
            ? { distr: 3, log: 10, range: (_u, min, max) => [10 ** Math.floor(Math.log10(Math.max(min, 0.1))), 10 ** Math.ceil(Math.log10(Math.max(max, 1)))] }
            : chart.breaker
              ? { range: [-0.25, 2.25] }
              : chart.range
                ? { range: chart.range }
                : { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [
          {
            size: last ? 48 : 32,
            // Whole seconds only.
            incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600],
            ...(last ? { label: "seconds into the drill", labelSize: 18 } : {}),
            values: (_u, splits) => splits.map((v) => `${v} s`),
          },
          chart.breaker
            ? { size: Y_AXIS_SIZE, splits: () => [0, 1, 2], values: (_u, splits) => splits.map((v) => BREAKER_LABELS[v] ?? "") }
            : chart.log
              ? { size: Y_AXIS_SIZE, splits: decades, filter: (_u, splits) => splits, values: (_u, splits) => splits.map(milliseconds) }
              : { size: Y_AXIS_SIZE, values: (_u, splits) => splits.map((v) => `${v}${chart.unit === "%" ? " %" : ""}`) },
        ],
        series: [
          { label: "second", value: (_u, v) => (v === null ? "–" : `${Math.floor(v)} s`) },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: s.width ?? 1.5,
            ...(s.fill ? { fill: s.fill } : {}),
            ...(s.dash ? { dash: s.dash } : {}),
            ...(s.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
            points: { show: false },
            spanGaps: false,
            value: chart.breaker ? (_u, v) => (v === null ? "–" : BREAKER_LABELS[Math.round(v)]) : formatValue(chart.unit),
          })),
        ],
        plugins: [windowsPlugin(windows, events, first)],
      };
      const values = series.map((s) => {
        const v = slice(s.values);
        // A log scale has no place for 0: an answer in under 0.1 ms is drawn at 0.1 ms.
        return chart.log ? v.map((x) => (x === null ? null : Math.max(0.1, x))) : v;
      });
      const u = new uPlot(opts, [xs, ...values], container);
      window.reportCharts.push({
        section: section.title,
        title: chart.title,
        uplot: u,
        windows: windows.map((w) => ({ label: w.label, color: windowColors[w.name], fromS: w.fromMs / 1000, toS: w.toMs / 1000 })),
        series: series.map((s, i) => ({ label: s.label, color: s.stroke, points: values[i].filter((v) => v !== null).length })),
      });
    });
  });

  window.addEventListener("resize", () => {
    for (const c of window.reportCharts) c.uplot.setSize({ width: width(), height: c.uplot.height });
  });
})();

// Small wrappers over uPlot: a volume chart (interactions and failed tool calls per bucket) and
// a usage chart (tokens and cost per bucket).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Bucket } from "./api";
import { usd } from "./dom";

// The axes' font, set explicitly so that the y axis can be sized to its widest label.
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
let measurer: CanvasRenderingContext2D | null = null;

// The CSS pixel width of `text` in the axes' font.
function textWidth(text: string): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return text.length * 8;
  measurer.font = AXIS_FONT;
  return measurer.measureText(text).width;
}

// An axis wide enough for its widest label ("10,000" no longer cut to "0,000"): tick length,
// gap and the label, plus a little air.
function axisSize(self: uPlot, values: string[] | null, axisIdx: number): number {
  const axis = self.axes[axisIdx];
  const widest = Math.max(0, ...(values ?? []).map(textWidth));
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + widest + 4);
}

// The buckets' x positions (seconds) and their own span, from the data. uPlot widens a lone
// point on a time scale by 86400 / ms units, one day in milliseconds but 1000 days in our
// seconds (ms: 1e-3): with all data inside one bucket the axis ran from today to 2029. A lone
// bucket gets one bucket of room either side instead.
function timeScale(buckets: Bucket[], hourly: boolean): { xs: number[]; x: uPlot.Scale } {
  const step = hourly ? 3600 : 86400;  // seconds per bucket
  const xs = buckets.map((b) => Date.parse(b.start) / 1000);
  return { xs, x: { time: true,
                    range: (): uPlot.Range.MinMax => (xs.length === 1 ? [xs[0] - step, xs[0] + step]
                                                                        : [xs[0], xs[xs.length - 1]]) } };
}

// Draws `data` with `series` into `el`, on the time scale of `buckets`, and keeps it as wide as
// `el`. `extra` adds scales and axes after the x axis and the left y axis.
function timeChart(el: HTMLElement, buckets: Bucket[], hourly: boolean, series: uPlot.Series[],
                   values: number[][], extra: { scales?: uPlot.Scales; axes?: uPlot.Axis[] } = {}): uPlot {
  const { xs, x } = timeScale(buckets, hourly);
  const opts: uPlot.Options = {
    width: Math.max(320, el.clientWidth || 640),
    height: 220,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true },
    scales: { x, ...(extra.scales ?? {}) },
    axes: [
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" }, font: AXIS_FONT },
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" }, font: AXIS_FONT, size: axisSize },
      ...(extra.axes ?? []),
    ],
    series: [{ label: hourly ? "hour" : "day" }, ...series],
    hooks: {
      // What the axes show, on the element, for people's tools and the browser test (the labels
      // are drawn on a canvas): the x range in seconds, each axis's labels, the y axis's width.
      draw: [(u) => {
        const shown = (i: number) => ((u.axes[i] as { _values?: string[] })._values ?? []);
        el.dataset.xMin = String(u.scales.x.min);
        el.dataset.xMax = String(u.scales.x.max);
        el.dataset.xTicks = JSON.stringify(shown(0));
        el.dataset.yTicks = JSON.stringify(shown(1));
        el.dataset.yAxisWidth = String((u.axes[1] as { _size?: number })._size ?? 0);
        el.dataset.yLabelWidth = String(Math.max(0, ...shown(1).map(textWidth)));
      }],
    },
  };
  const plot = new uPlot(opts, [xs, ...values], el);
  const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
  window.addEventListener("resize", resize);
  return plot;
}

export function volumeChart(el: HTMLElement, buckets: Bucket[], hourly: boolean): uPlot {
  return timeChart(el, buckets, hourly, [
    { label: "interactions", stroke: "#4f46e5", width: 2, fill: "rgba(79,70,229,0.12)",
      points: { show: buckets.length < 60 } },
    { label: "failed tool calls", stroke: "#e11d48", width: 2, points: { show: false } },
  ], [buckets.map((b) => b.interactions), buckets.map((b) => b.tool_failures)]);
}

// Input and output tokens on the left axis, cost in USD on the right.
export function usageChart(el: HTMLElement, buckets: Bucket[], hourly: boolean): uPlot {
  el.dataset.costs = JSON.stringify(buckets.map((b) => b.cost_usd));
  return timeChart(el, buckets, hourly, [
    { label: "input tokens", stroke: "#0891b2", width: 2, fill: "rgba(8,145,178,0.10)",
      points: { show: buckets.length < 60 } },
    { label: "output tokens", stroke: "#7c3aed", width: 2, points: { show: false } },
    { label: "cost (USD)", scale: "usd", stroke: "#d97706", width: 2, dash: [6, 4],
      points: { show: false }, value: (_u, v) => (v == null ? "—" : usd(v)) },
  ], [buckets.map((b) => b.tokens.input), buckets.map((b) => b.tokens.output),
      buckets.map((b) => b.cost_usd)], {
    scales: { usd: {} },
    axes: [{ scale: "usd", side: 1, stroke: "#d97706", grid: { show: false }, font: AXIS_FONT,
             size: axisSize, values: (_u, ticks) => ticks.map(usd) }],
  });
}

// Small wrappers over uPlot: a volume chart (interactions and failed tool calls per bucket).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Bucket } from "./api";

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

export function volumeChart(el: HTMLElement, buckets: Bucket[], hourly: boolean): uPlot {
  const step = hourly ? 3600 : 86400;  // seconds per bucket
  const xs = buckets.map((b) => Date.parse(b.start) / 1000);
  const width = Math.max(320, el.clientWidth || 640);
  const opts: uPlot.Options = {
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true },
    scales: {
      // The buckets' own span, from the data. uPlot widens a lone point on a time scale by
      // 86400 / ms units, one day in milliseconds but 1000 days in our seconds (ms: 1e-3): with
      // all data inside one bucket the axis ran from today to 2029. A lone bucket gets one
      // bucket of room either side instead.
      x: { time: true,
           range: (): uPlot.Range.MinMax => (xs.length === 1 ? [xs[0] - step, xs[0] + step]
                                                               : [xs[0], xs[xs.length - 1]]) },
    },
    axes: [
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" }, font: AXIS_FONT },
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" }, font: AXIS_FONT, size: axisSize },
    ],
    series: [
      { label: hourly ? "hour" : "day" },
      { label: "interactions", stroke: "#4f46e5", width: 2, fill: "rgba(79,70,229,0.12)",
        points: { show: buckets.length < 60 } },
      { label: "failed tool calls", stroke: "#e11d48", width: 2, points: { show: false } },
    ],
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
  const data: uPlot.AlignedData = [xs, buckets.map((b) => b.interactions),
                                   buckets.map((b) => b.tool_failures)];
  const plot = new uPlot(opts, data, el);
  const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
  window.addEventListener("resize", resize);
  return plot;
}

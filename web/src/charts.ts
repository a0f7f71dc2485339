// Small wrappers over uPlot: a volume chart (interactions and failed tool calls per bucket).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Bucket } from "./api";

export function volumeChart(el: HTMLElement, buckets: Bucket[], hourly: boolean): uPlot {
  const xs = buckets.map((b) => Date.parse(b.start) / 1000);
  const width = Math.max(320, el.clientWidth || 640);
  const opts: uPlot.Options = {
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true },
    scales: { x: { time: true } },
    axes: [
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" } },
      { stroke: "#8b93a7", grid: { stroke: "#eef0f5" }, size: 48 },
    ],
    series: [
      { label: hourly ? "hour" : "day" },
      { label: "interactions", stroke: "#4f46e5", width: 2, fill: "rgba(79,70,229,0.12)",
        points: { show: buckets.length < 60 } },
      { label: "failed tool calls", stroke: "#e11d48", width: 2, points: { show: false } },
    ],
  };
  const data: uPlot.AlignedData = [xs, buckets.map((b) => b.interactions),
                                   buckets.map((b) => b.tool_failures)];
  const plot = new uPlot(opts, data, el);
  const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
  window.addEventListener("resize", resize);
  return plot;
}

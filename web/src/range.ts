// The time-range picker shared by the overview and the user page.
import { h } from "./dom";

const RANGES: [string, string, number][] = [
  ["24h", "24 hours", 1], ["7d", "7 days", 7], ["30d", "30 days", 30], ["all", "All time", 0],
];

export function rangeParams(range: string): Record<string, string> {
  const days = RANGES.find((r) => r[0] === range)?.[2] ?? 30;
  if (!days) return {};
  const from = new Date(Date.now() - days * 86400_000);
  return { from: from.toISOString().replace(/\.\d+Z$/, "Z") };
}

// "the last 30 days" for "30d"; "all time" for "all".
export function rangeLabel(range: string): string {
  const r = RANGES.find((x) => x[0] === range) ?? RANGES[2];
  return r[2] ? `the last ${r[1]}` : "all time";
}

export function rangePicker(current: string, base: string): HTMLElement {
  const sep = base.includes("?") ? "&" : "?";
  return h("nav", { class: "range" }, RANGES.map(([key, label]) =>
    h("a", { href: `${base}${sep}range=${key}`, class: key === current ? "active" : "" }, label)));
}

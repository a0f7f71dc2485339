// A user's page: their activity, tools and threads, and their data's lifecycle (export; for the
// admin retention, legal hold and erasure).
import { api, type Stats, type ThreadSummary } from "./api";
import { volumeChart } from "./charts";
import { clear, fmtNum, fmtTime, h, link } from "./dom";
import { lifecyclePanels } from "./lifecycle";
import { kpis, requestsPanel, toolsPanel } from "./overview";

export async function renderUser(root: HTMLElement, user: string): Promise<void> {
  const [stats, threads, lifecycle] = await Promise.all([
    api<Stats>("/api/stats", { user_id: user, top: "8" }),
    api<{ threads: ThreadSummary[]; total: number }>("/api/threads", { user_id: user, limit: "100" }),
    lifecyclePanels(user, (erased) => {
      clear(root);
      root.append(erased);
    }),
  ]);
  const chart = h("div", { class: "chart" });
  root.append(
    h("div", { class: "page-head" }, h("div", {}, h("div", { class: "crumbs" }, "user"),
      h("h1", { class: "user-title" }, user)),
      link(`#/interactions?user_id=${encodeURIComponent(user)}`, "All interactions →", "button")),
    kpis(stats),
    h("section", { class: "panel wide" }, h("h2", {}, "Activity per day"), chart),
    h("div", { class: "grid" }, toolsPanel(stats, user), requestsPanel(stats)),
    lifecycle,
    h("section", { class: "panel" }, h("h2", {}, `Threads (${fmtNum(threads.total)})`),
      h("table", { class: "threads" },
        h("thead", {}, h("tr", {}, h("th", {}, "Thread"), h("th", {}, "Started with"),
          h("th", {}, "Interactions"), h("th", {}, "Last active"))),
        h("tbody", {}, threads.threads.map((t) => h("tr", {},
          h("td", {}, link(`#/thread/${encodeURIComponent(t.user_id)}/${encodeURIComponent(t.thread_id)}`,
                           t.thread_id, "thread-link")),
          h("td", { class: "msg clip", dir: "auto" }, t.first_message),
          h("td", { class: "num" }, fmtNum(t.interactions)),
          h("td", { class: "nowrap muted" }, fmtTime(t.last_timestamp))))))));
  if (stats.per_day.length) volumeChart(chart, stats.per_day, false);
}

// Overview: volume over time, tokens and cost, tools and their failure rates, feedback, busiest
// users and threads.
import { api, type SearchPage, type Stats } from "./api";
import { usageChart, volumeChart } from "./charts";
import { fmtNum, h, link, pct, usd } from "./dom";
import { rangeLabel, rangeParams, rangePicker } from "./range";

export function kpis(s: Stats): HTMLElement {
  const t = s.totals;
  const card = (label: string, value: string, note = "", cls = "") =>
    h("div", { class: "kpi " + cls }, h("div", { class: "kpi-label" }, label),
      h("div", { class: "kpi-value" }, value), note ? h("div", { class: "kpi-note" }, note) : null);
  const fb = s.feedback;
  return h("div", { class: "kpis" },
    card("Interactions", fmtNum(t.interactions)),
    card("Active users", fmtNum(t.active_users)),
    card("Threads", fmtNum(t.threads)),
    card("Tool calls", fmtNum(t.tool_calls), `${fmtNum(t.tool_failures)} failed`),
    card("Tool failure rate", pct(t.tool_failure_rate), "", t.tool_failure_rate > 0.1 ? "bad" : "good"),
    card("Positive feedback", fb.count ? pct(fb.positive / fb.count) : "—",
         fb.count ? `${fmtNum(fb.count)} rated · ${fmtNum(fb.negative)} negative` : "no ratings yet"),
    card("Tokens", fmtNum(t.tokens.input + t.tokens.output),
         `${fmtNum(t.tokens.input)} in · ${fmtNum(t.tokens.output)} out · ` +
         `${fmtNum(t.tokens.cached_input)} cached · ${fmtNum(t.tokens.reasoning)} reasoning`, "tokens"),
    card("Cost", usd(t.cost_usd),
         t.unpriced_interactions ? `${fmtNum(t.unpriced_interactions)} interactions of unpriced models`
                                 : "priced when saved", "cost"));
}

// Tokens and cost over time, and by model: the chart is filled in by the caller once the panel
// is on the page (uPlot needs its width).
export function usagePanel(s: Stats, chart: HTMLElement): HTMLElement {
  return h("section", { class: "panel wide usage" }, h("h2", {}, "Tokens and cost"),
    s.totals.usage_interactions === 0 ? h("p", { class: "muted" }, "No token usage reported in this range.") :
    h("div", {}, chart,
      h("table", { class: "models" },
        h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", { class: "num" }, "Interactions"),
          h("th", { class: "num" }, "Input (cached)"), h("th", { class: "num" }, "Output (reasoning)"),
          h("th", { class: "num" }, "Cost"))),
        h("tbody", {}, s.usage_by_model.map((m) => h("tr", {},
          h("td", { class: "model-name" }, m.model || "(no model)"),
          h("td", { class: "num" }, fmtNum(m.interactions)),
          h("td", { class: "num" }, `${fmtNum(m.tokens.input)} (${fmtNum(m.tokens.cached_input)})`),
          h("td", { class: "num" }, `${fmtNum(m.tokens.output)} (${fmtNum(m.tokens.reasoning)})`),
          h("td", { class: "num model-cost" },
            m.unpriced_interactions === m.interactions ? "no price" : usd(m.cost_usd))))))));
}

export function toolsPanel(s: Stats, userId?: string): HTMLElement {
  const max = Math.max(1, ...s.top_tools.map((t) => t.calls));
  const maxRate = Math.max(0.0001, ...s.top_tools.map((t) => t.failure_rate));
  return h("section", { class: "panel" }, h("h2", {}, "Tools"),
    s.top_tools.length === 0 ? h("p", { class: "muted" }, "No tool calls in this range.") :
    h("table", { class: "tools" },
      h("thead", {}, h("tr", {}, h("th", {}, "Tool"), h("th", {}, "Calls"), h("th", {}, "Failure rate"))),
      h("tbody", {}, s.top_tools.map((t) => h("tr", {},
        h("td", {}, link(`#/interactions?tool=${encodeURIComponent(t.tool_name)}` +
                         (userId ? `&user_id=${encodeURIComponent(userId)}` : ""), t.tool_name, "tool-name")),
        h("td", { class: "bar-cell" },
          h("div", { class: "bar", style: `width:${(100 * t.calls) / max}%` }),
          h("span", {}, fmtNum(t.calls))),
        h("td", { class: t.failure_rate > 0.1 ? "rate bad" : "rate" },
          h("span", { class: "fail-track" },
            h("span", { class: "fail-bar", style: `width:${(100 * t.failure_rate) / maxRate}%` })),
          link(`#/interactions?tool=${encodeURIComponent(t.tool_name)}&status=failed` +
               (userId ? `&user_id=${encodeURIComponent(userId)}` : ""),
               `${pct(t.failure_rate)} (${fmtNum(t.failures)})`)))))));
}

function feedbackPanel(s: Stats, negative: SearchPage): HTMLElement {
  const f = s.feedback;
  const total = Math.max(1, f.count);
  const seg = (n: number, cls: string, label: string) =>
    n ? h("div", { class: "seg " + cls, style: `flex:${n / total}`, title: `${label}: ${n}` }) : null;
  return h("section", { class: "panel" }, h("h2", {}, "Feedback"),
    f.count === 0 ? h("p", { class: "muted" }, "No feedback yet: rate answers in a thread.") :
    h("div", {},
      h("div", { class: "stack" }, seg(f.positive, "pos", "positive"), seg(f.neutral, "neu", "neutral"),
        seg(f.negative, "neg", "negative")),
      h("ul", { class: "legend" },
        h("li", {}, h("span", { class: "dot pos" }), `${fmtNum(f.positive)} positive`),
        h("li", {}, h("span", { class: "dot neu" }), `${fmtNum(f.neutral)} neutral`),
        h("li", {}, h("span", { class: "dot neg" }), link("#/interactions?feedback=negative",
          `${fmtNum(f.negative)} negative`))),
      h("p", { class: "muted" }, `Average score ${f.average.toFixed(2)} over ${fmtNum(f.count)} rated interactions.`),
      negative.interactions.length ? h("div", {}, h("h3", {}, "Latest negative feedback"),
        h("ul", { class: "neg-list" }, negative.interactions.map((i) => h("li", {},
          i.thread_id ? link(`#/thread/${encodeURIComponent(i.user_id)}/${encodeURIComponent(i.thread_id)}`,
                             i.user_message, "clip") : h("span", { class: "clip" }, i.user_message),
          i.feedback?.comment ? h("span", { class: "muted small" }, ` “${i.feedback.comment}”`) : null)))) : null));
}

export function requestsPanel(s: Stats): HTMLElement {
  return h("section", { class: "panel" }, h("h2", {}, "Top requests"),
    h("p", { class: "muted small" }, `From the latest ${fmtNum(s.requests_sampled)} interactions.`),
    h("ol", { class: "requests" }, s.top_requests.map((r) =>
      h("li", {}, h("span", { dir: "auto" }, link(`#/interactions?q=${encodeURIComponent(r.text.slice(0, 60))}`, r.text)),
        h("span", { class: "count" }, fmtNum(r.count))))));
}

// Said above an empty overview: where the data is (the newest interaction of any time, with a
// link to all time), or that there is none yet.
function emptyRangeNotice(range: string, newest: SearchPage): HTMLElement {
  const item = newest.interactions[0];
  if (!item) {
    return h("p", { class: "notice empty-range" }, "No interactions are stored yet. Save one with ",
      h("code", {}, "POST /api/save_interaction"), ", or fill a store with ",
      h("code", {}, "omniflow demo-data"), ".");
  }
  const when = new Date(item.timestamp).toISOString().replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
  return h("p", { class: "notice empty-range" },
    `No interactions in ${rangeLabel(range)}. The newest one stored is from ${when}. `,
    link("#/?range=all", "Show all time"));
}

export async function renderOverview(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const range = params.get("range") ?? "30d";
  const [stats, negative] = await Promise.all([
    api<Stats>("/api/stats", { ...rangeParams(range), top: "8" }),
    api<SearchPage>("/api/search", { ...rangeParams(range), feedback: "negative", limit: "4" }),
  ]);
  const newest = range !== "all" && stats.totals.interactions === 0
    ? await api<SearchPage>("/api/search", { limit: "1" }) : null;
  const chart = h("div", { class: "chart" });
  const usage = h("div", { class: "chart usage-chart" });
  const hourly = range === "24h" || range === "7d";
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Overview"), rangePicker(range, "#/")),
    ...(newest ? [emptyRangeNotice(range, newest)] : []),
    kpis(stats),
    h("section", { class: "panel wide" }, h("h2", {}, "Volume"), chart),
    usagePanel(stats, usage),
    h("div", { class: "grid" }, toolsPanel(stats), feedbackPanel(stats, negative)),
    h("div", { class: "grid" },
      h("section", { class: "panel" }, h("h2", {}, "Busiest users"),
        h("table", {}, h("tbody", {}, stats.top_users.map((u) => h("tr", {},
          h("td", {}, link(`#/user/${encodeURIComponent(u.user_id)}`, u.user_id, "user-link")),
          h("td", { class: "num" }, fmtNum(u.interactions))))))),
      h("section", { class: "panel" }, h("h2", {}, "Busiest threads"),
        h("table", {}, h("tbody", {}, stats.top_threads.map((t) => h("tr", {},
          h("td", {}, link(`#/thread/${encodeURIComponent(t.user_id)}/${encodeURIComponent(t.thread_id)}`,
                           t.thread_id, "thread-link")),
          h("td", { class: "muted" }, t.user_id),
          h("td", { class: "num" }, fmtNum(t.interactions)))))))),
    requestsPanel(stats));
  const buckets = hourly ? stats.per_hour : stats.per_day;
  if (buckets.length) volumeChart(chart, buckets, hourly);
  else chart.append(h("p", { class: "muted" }, "No interactions in this range."));
  if (stats.totals.usage_interactions > 0) usageChart(usage, buckets, hourly);
}

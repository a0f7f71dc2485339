// Replays (admin key): start one from the Interactions page's filter with a candidate model or
// system prompt (POST /api/replays), follow its progress and summary, and read each result side
// by side with its original, the tool calls diffed. docs/replay.md.
import { ApiError, api } from "./api";
import { clear, fmtNum, fmtTime, h, link, usd, withRedactions } from "./dom";

const FILTERS = ["q", "user_id", "thread_id", "tool", "status", "feedback", "from", "to"] as const;

interface Replay {
  replay_id: string; name: string; state: string; actor: string; created_at: string;
  finished_at: string | null; error: string | null; progress: { done: number; total: number };
  summary?: {
    replayed: number; changed: number; failures_fixed: number; failures_introduced: number;
    errors: number; tool_sequence_agreement: number;
    latency_ms: { original_mean: number; replay_mean: number };
    tokens: { original: number; replay: number };
    usage?: { original: UsageTotals; replay: UsageTotals };
    cost?: { original: number; replay: number };
  };
}
interface Tokens { input: number; cached_input: number; output: number; reasoning: number }
// Over the replayed items: those whose side reported usage, how many of them had a price.
interface UsageTotals {
  items: number; priced_items: number; unpriced_items: number; tokens: Tokens; cost_usd: number;
}
// One side of one item: null without usage; cost_usd null when its model has no price.
interface ItemUsage { model: string; tokens: Tokens; cost_usd: number | null }
interface ToolCall { tool_name: string; arguments: unknown; result: unknown; status: string }
interface Item {
  item_no: number; user_id: string; interaction_id: string;
  original: { user_message: string; assistant_response: string; tool_calls?: ToolCall[] };
  replay: { response: string; tool_calls: ToolCall[]; outcome: string; error?: string; latency_ms: number };
  comparison: { changed: boolean; tool_sequence: string; failure: string; answer_changed: boolean;
                original_feedback: string | null };
  usage?: { original: ItemUsage | null; replay: ItemUsage | null };
}

// Dollars as the overview writes them, but a replay's costs are often fractions of a cent:
// below one cent, three significant digits ("$0.00089") instead of "$0.0009" or "$0.00".
function replayUsd(x: number): string {
  if (x === 0 || x >= 0.01) return usd(x);
  return "$" + x.toLocaleString("en-US", { maximumSignificantDigits: 3 });
}

// "1,200 tokens · $0.0036", "… · no price for <model>", or "no usage reported".
function usageLine(u: ItemUsage | null | undefined, side: string): HTMLElement {
  const text = !u ? "no usage reported"
    : `${fmtNum(u.tokens.input + u.tokens.output)} tokens · ` +
      (u.cost_usd === null ? `no price for ${u.model || "(no model)"}` : replayUsd(u.cost_usd));
  return h("p", { class: "muted small usage-line", "data-side": side,
                  title: u ? `${u.model || "(no model)"}: ${fmtNum(u.tokens.input)} in (${fmtNum(u.tokens.cached_input)} cached) · ` +
                            `${fmtNum(u.tokens.output)} out (${fmtNum(u.tokens.reasoning)} reasoning)` : "" }, text);
}
interface ResultsPage { items: Item[]; has_more: boolean; next_cursor: string | null }

function adminOnly(status: HTMLElement, err: unknown): boolean {
  if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) return false;
  clear(status);
  status.className = "error";
  status.append("Replays need the admin key (OMNIFLOW_ADMIN_KEY): ", (err as Error).message);
  return true;
}

function progress(r: Replay): HTMLElement {
  const { done, total } = r.progress;
  return h("span", { class: "replay-progress" },
    h("progress", { max: String(Math.max(total, 1)), value: String(done) }), ` ${fmtNum(done)}/${fmtNum(total)}`);
}

// The start form, its filter taken from the Interactions page's (the page's query).
function startForm(params: URLSearchParams): HTMLFormElement {
  const field = (name: string, label: string, value = "", type = "text") =>
    h("label", {}, label, h("input", { name, type, value, "aria-label": label }));
  const filter = FILTERS.filter((f) => params.get(f)).map((f) => `${f}=${params.get(f)}`).join(" · ");
  const error = h("p", { class: "error", id: "replay-error" });
  const form = h("form", { class: "filters replay-start", id: "replay-start", autocomplete: "off" },
    h("div", { class: "muted small", id: "replay-filter" },
      "Interactions: ", filter || "all (set a filter on the Interactions page)"),
    field("name", "name", "replay of " + (filter || "everything")),
    field("model", "candidate model"),
    h("label", {}, "candidate system prompt",
      h("textarea", { name: "system_prompt", rows: "3", "aria-label": "candidate system prompt" })),
    field("limit", "limit", "50", "number"),
    h("label", {}, "sample", h("select", { name: "sample", "aria-label": "sample" },
      h("option", { value: "newest" }, "newest"), h("option", { value: "random" }, "random"))),
    field("concurrency", "concurrency", "4", "number"),
    h("button", { type: "submit", class: "primary" }, "Start replay"), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const text = (k: string) => String(data.get(k) ?? "").trim();
    const candidate: Record<string, string> = {};
    if (text("model")) candidate.model = text("model");
    if (text("system_prompt")) candidate.system_prompt = text("system_prompt");
    const filterObject: Record<string, string> = {};
    for (const f of FILTERS) { const v = params.get(f); if (v) filterObject[f] = v; }
    const body = { name: text("name"), filter: filterObject, limit: Number(text("limit")),
                   sample: text("sample"), concurrency: Number(text("concurrency")), candidate };
    try {
      const started = await api<{ replay_id: string }>("/api/replays", {},
        { method: "POST", body: JSON.stringify(body) });
      location.hash = "#/replay/" + started.replay_id;
    } catch (err) {
      clear(error);
      error.append((err as Error).message);
    }
  });
  return form;
}

export async function renderReplays(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const tbody = h("tbody", {});
  const status = h("p", { class: "muted small", id: "replays-status" });
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Replays"),
    h("div", { class: "muted small" }, "Run historical messages again with a candidate model or prompt; nothing is logged and users' data is never changed.")),
    h("section", { class: "panel" }, startForm(params)),
    h("section", { class: "panel flush" },
      h("table", { class: "replays" },
        h("thead", {}, h("tr", {}, h("th", {}, "Started"), h("th", {}, "Name"), h("th", {}, "State"),
          h("th", {}, "Progress"), h("th", {}, "By"))), tbody)),
    status);
  let list: { replays: Replay[] };
  try {
    list = await api<{ replays: Replay[] }>("/api/replays");
  } catch (err) {
    if (adminOnly(status, err)) return;
    throw err;
  }
  for (const r of list.replays) {
    tbody.append(h("tr", { class: "row", "data-replay": r.replay_id },
      h("td", { class: "nowrap muted" }, fmtTime(r.created_at)),
      h("td", {}, link("#/replay/" + r.replay_id, r.name || r.replay_id, "replay-link")),
      h("td", {}, h("span", { class: "chip" + (r.state === "failed" ? " bad" : "") }, r.state)),
      h("td", {}, progress(r)), h("td", { class: "muted" }, r.actor)));
  }
  status.append(list.replays.length ? `${list.replays.length} replays` : "No replays yet.");
}

// The tool names of both sides, aligned by position: same, changed, added or removed.
function toolDiff(before: ToolCall[], after: ToolCall[]): HTMLElement {
  const rows: HTMLElement[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const a = before[i], b = after[i];
    const kind = !a ? "added" : !b ? "removed" : a.tool_name !== b.tool_name ? "changed" : "same";
    const chip = (t: ToolCall | undefined) => t
      ? h("span", { class: "chip" + (t.status !== "success" ? " bad" : ""), title: JSON.stringify(t.arguments) },
          t.tool_name, t.status !== "success" ? " ✗" : "")
      : h("span", { class: "muted" }, "—");
    rows.push(h("tr", { class: "tool-diff " + kind, "data-diff": kind },
      h("td", {}, chip(a)), h("td", { class: "muted small" }, kind), h("td", {}, chip(b))));
  }
  return h("table", { class: "tool-diff" }, h("tbody", {}, rows));
}

function resultCard(item: Item): HTMLElement {
  const c = item.comparison;
  const verdict = c.failure === "fixed" ? "pos" : c.failure === "introduced" || c.failure === "error" ? "neg" : "";
  return h("article", { class: "panel replay-item", "data-item": String(item.item_no), "data-failure": c.failure },
    h("div", { class: "row-between" },
      h("div", {}, link(`#/user/${encodeURIComponent(item.user_id)}`, item.user_id, "user-link"), " · ",
        h("span", { dir: "auto" }, withRedactions(item.original.user_message))),
      h("div", {}, h("span", { class: "badge " + verdict }, "failure: " + c.failure), " ",
        h("span", { class: "badge" }, "tools " + c.tool_sequence), " ",
        c.answer_changed ? h("span", { class: "badge" }, "answer changed") : "",
        c.original_feedback ? h("span", { class: "badge" }, "feedback " + c.original_feedback) : "")),
    h("div", { class: "side-by-side" },
      h("div", { class: "original" }, h("h3", {}, "Original"),
        h("p", { dir: "auto" }, withRedactions(item.original.assistant_response)),
        usageLine(item.usage?.original, "original")),
      h("div", { class: "replayed" }, h("h3", {}, "Replay"),
        h("p", { dir: "auto" }, item.replay.error ? h("span", { class: "error" }, item.replay.error)
                                                  : withRedactions(item.replay.response)),
        usageLine(item.usage?.replay, "replay"))),
    toolDiff(item.original.tool_calls ?? [], item.replay.tool_calls));
}

export async function renderReplay(root: HTMLElement, id: string): Promise<void> {
  const status = h("p", { class: "muted small", id: "replay-status" });
  let r: Replay;
  try {
    r = await api<Replay>("/api/replays/" + encodeURIComponent(id));
  } catch (err) {
    root.append(status);
    if (adminOnly(status, err)) return;
    throw err;
  }
  const s = r.summary!;
  const card = (label: string, value: string, cls = "", note = "") =>
    h("div", { class: "kpi " + cls }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, value),
      note ? h("div", { class: "kpi-note" }, note) : null);
  // Which items the cost covers: an unknown model's items are counted, never priced as $0.
  const priced = (u: UsageTotals | undefined) => !u ? "" : u.unpriced_items
    ? `${fmtNum(u.priced_items)} of ${fmtNum(u.items)} priced` : `${fmtNum(u.priced_items)} priced`;
  const changedOnly = h("input", { type: "checkbox", id: "changed-only" });
  const items = h("div", { id: "replay-items" });
  const more = h("button", { class: "more", type: "button", hidden: true }, "Load more");
  root.append(h("div", { class: "page-head" }, h("h1", {}, r.name || r.replay_id),
      h("div", { class: "muted small" }, `${r.state} · started ${fmtTime(r.created_at)} by ${r.actor}`, " ", progress(r))),
    r.error ? h("p", { class: "error" }, r.error) : "",
    h("div", { class: "kpis", id: "replay-summary" },
      card("Replayed", fmtNum(s.replayed)), card("Changed", fmtNum(s.changed)),
      card("Failures fixed", fmtNum(s.failures_fixed), "good"),
      card("Failures introduced", fmtNum(s.failures_introduced), s.failures_introduced ? "bad" : ""),
      card("Errors", fmtNum(s.errors), s.errors ? "bad" : ""),
      card("Same tools", Math.round(s.tool_sequence_agreement * 100) + "%"),
      card("Latency", `${Math.round(s.latency_ms.original_mean)} → ${Math.round(s.latency_ms.replay_mean)} ms`),
      card("Tokens", `${fmtNum(s.tokens.original)} → ${fmtNum(s.tokens.replay)}`),
      s.cost ? card("Cost", `${replayUsd(s.cost.original)} → ${replayUsd(s.cost.replay)}`, "cost pair",
                    `${priced(s.usage?.original)} → ${priced(s.usage?.replay)}`) : ""),
    h("label", { class: "small" }, changedOnly, " changed only"), items, status, more,
    h("p", {}, h("button", { type: "button", class: "ghost", id: "replay-delete", onclick: async () => {
      if (!confirm("Remove this replay and its results?")) return;
      await api("/api/replays/" + encodeURIComponent(id), {}, { method: "DELETE" });
      location.hash = "#/replays";
    } }, "Remove replay")));
  let cursor: string | null = null;
  const load = async (reset: boolean) => {
    if (reset) { cursor = null; clear(items); }
    const page = await api<ResultsPage>(`/api/replays/${encodeURIComponent(id)}/results`,
      { limit: "20", cursor: cursor ?? undefined, changed: changedOnly.checked ? "true" : undefined });
    for (const item of page.items) items.append(resultCard(item));
    cursor = page.next_cursor;
    more.hidden = !page.has_more;
    clear(status);
    status.append(items.childElementCount ? `${items.childElementCount} results shown` : "No results yet.");
  };
  changedOnly.addEventListener("change", () => void load(true));
  more.addEventListener("click", () => void load(false));
  await load(true);
  // While it runs, look again in a second (only if this page is still the one shown).
  if (r.state === "running" || r.state === "selecting") {
    const here = location.hash;
    setTimeout(() => { if (location.hash === here) window.dispatchEvent(new HashChangeEvent("hashchange")); }, 1000);
  }
}

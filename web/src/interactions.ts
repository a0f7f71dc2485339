// Interactions: a filterable, searchable table, newest first, paged by cursor.
import { api, type Interaction, type SearchPage } from "./api";
import { clear, fmtTime, h, icon, link, withRedactions } from "./dom";

const FILTERS = ["q", "user_id", "thread_id", "tool", "status", "feedback", "from", "to"] as const;

function feedbackBadge(i: Interaction): HTMLElement | string {
  if (!i.feedback) return "";
  const s = i.feedback.score;
  return h("span", { class: "badge " + (s >= 0.5 ? "pos" : s < 0 ? "neg" : "neu") },
    s >= 0.5 ? icon("up") : s < 0 ? icon("down") : "•", ` ${s}`);
}

function row(i: Interaction): HTMLElement {
  const failed = i.tool_calls.filter((t) => t.status !== "success").length;
  const threadHref = i.thread_id
    ? `#/thread/${encodeURIComponent(i.user_id)}/${encodeURIComponent(i.thread_id)}` : "";
  return h("tr", { class: failed ? "row failed" : "row", "data-id": i.interaction_id },
    h("td", { class: "nowrap muted" }, fmtTime(i.timestamp)),
    h("td", {}, link(`#/user/${encodeURIComponent(i.user_id)}`, i.user_id, "user-link")),
    h("td", { class: "msg" },
      h("div", { dir: "auto" }, threadHref ? link(threadHref, i.user_message, "message-link")
                                        : h("span", {}, withRedactions(i.user_message))),
      h("div", { class: "muted small clip", dir: "auto" }, withRedactions(i.assistant_response))),
    h("td", {}, i.tool_calls.map((t) =>
      h("span", { class: "chip" + (t.status !== "success" ? " bad" : "") }, t.tool_name))),
    h("td", {}, feedbackBadge(i)));
}

export async function renderInteractions(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const form = h("form", { class: "filters", autocomplete: "off" });
  const input = (name: string, placeholder: string, type = "text") =>
    h("input", { name, placeholder, type, value: params.get(name) ?? "", "aria-label": placeholder });
  const select = (name: string, options: [string, string][]) => {
    const el = h("select", { name, "aria-label": name },
      options.map(([v, label]) => h("option", { value: v }, label)));
    el.value = params.get(name) ?? "";
    return el;
  };
  form.append(
    h("input", { name: "q", class: "search", placeholder: "Search messages and answers, any language…",
                 value: params.get("q") ?? "", type: "search", "aria-label": "search" }),
    input("user_id", "user"), input("thread_id", "thread"), input("tool", "tool"),
    select("status", [["", "any status"], ["failed", "failed tools"], ["success", "no failures"]]),
    select("feedback", [["", "any feedback"], ["with", "rated"], ["without", "not rated"],
                        ["positive", "positive"], ["negative", "negative"]]),
    h("label", { class: "date" }, "from", input("from", "from", "date")),
    h("label", { class: "date" }, "to", input("to", "to", "date")),
    h("button", { type: "submit", class: "primary" }, "Apply"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    const data = new FormData(form);
    for (const name of FILTERS) {
      const v = String(data.get(name) ?? "").trim();
      if (v) next.set(name, v);
    }
    location.hash = "#/interactions?" + next.toString();
  });

  const tbody = h("tbody", {});
  const status = h("p", { class: "muted small", id: "result-status" });
  const more = h("button", { class: "more", type: "button" }, "Load more");
  const replayFilter = new URLSearchParams();
  for (const name of FILTERS) { const v = params.get(name); if (v) replayFilter.set(name, v); }
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Interactions"),
      link("#/replays?" + replayFilter.toString(), "Replay these with a candidate…", "replay-these")), form,
    h("section", { class: "panel flush" },
      h("table", { class: "interactions" },
        h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "User"), h("th", {}, "Message"),
          h("th", {}, "Tools"), h("th", {}, "Feedback"))), tbody)),
    status, more);

  const query: Record<string, string> = { limit: "50" };
  for (const name of FILTERS) { const v = params.get(name); if (v) query[name] = v; }
  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    more.disabled = true;
    const page = await api<SearchPage>("/api/search", { ...query, cursor: cursor ?? undefined });
    for (const i of page.interactions) tbody.append(row(i));
    shown += page.interactions.length;
    cursor = page.next_cursor;
    clear(status);
    status.append(shown === 0 ? "No interactions match." : `${shown} shown${page.has_more ? "" : " · end of results"}`);
    more.hidden = !page.has_more;
    more.disabled = false;
  };
  more.addEventListener("click", () => void load());
  await load();
}

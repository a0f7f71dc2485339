// Thread view: the conversation as chat bubbles, tool calls expandable with formatted JSON,
// failures highlighted, and feedback buttons on every answer.
import { api, setFeedback, type Conversation, type Interaction, type ToolCall } from "./api";
import { clear, fmtTime, h, icon, link, withRedactions } from "./dom";

function pretty(value: unknown): string {
  if (typeof value === "string") {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch { return value; }
  }
  return JSON.stringify(value, null, 2) ?? "null";
}

function toolCall(t: ToolCall): HTMLElement {
  const failed = t.status !== "success";
  return h("details", { class: "tool" + (failed ? " failed" : "") },
    h("summary", {}, h("span", { class: "tool-icon" }, failed ? "✕" : "⚙"),
      h("b", {}, t.tool_name), h("span", { class: "status" }, t.status)),
    h("div", { class: "tool-body" },
      h("div", { class: "label" }, "arguments"), h("pre", { class: "json" }, pretty(t.arguments)),
      h("div", { class: "label" }, "result"), h("pre", { class: "json" }, pretty(t.result))));
}

function feedbackBar(i: Interaction): HTMLElement {
  const bar = h("div", { class: "feedback" });
  const render = () => {
    clear(bar);
    const score = i.feedback?.score;
    const button = (value: number, label: Node, title: string) =>
      h("button", { type: "button", title, "aria-label": title, "aria-pressed": String(score === value),
                    class: "fb" + (score === value ? " on" : ""),
                    onclick: async () => {
                      try {
                        const r = await setFeedback(i.interaction_id, value, i.feedback?.comment ?? "");
                        i.feedback = r.feedback;
                        render();
                      } catch (e) {
                        bar.append(h("span", { class: "error small" }, String((e as Error).message)));
                      }
                    } }, label);
    bar.append(button(1, icon("up"), "Good answer"), button(-1, icon("down"), "Bad answer"));
    if (i.feedback) {
      bar.append(h("span", { class: "muted small fb-note" },
        `rated ${i.feedback.score}` + (i.feedback.comment ? ` · “${i.feedback.comment}”` : "")));
    }
  };
  render();
  return bar;
}

export function turn(i: Interaction): HTMLElement {
  const failed = i.tool_calls.some((t) => t.status !== "success");
  return h("article", { class: "turn" + (failed ? " has-failure" : ""), id: i.interaction_id },
    h("div", { class: "bubble user" }, h("div", { class: "text", dir: "auto" }, withRedactions(i.user_message)),
      h("div", { class: "meta" }, fmtTime(i.timestamp))),
    i.tool_calls.length ? h("div", { class: "turn-tools" }, i.tool_calls.map(toolCall)) : null,
    h("div", { class: "bubble assistant" }, h("div", { class: "text", dir: "auto" }, withRedactions(i.assistant_response)),
      h("div", { class: "meta" }, i.interaction_id), feedbackBar(i)));
}

export async function renderThread(root: HTMLElement, user: string, thread: string): Promise<void> {
  const conv = await api<Conversation>(`/api/threads/${encodeURIComponent(thread)}`,
                                       { user_id: user, limit: "500" });
  const list = h("div", { class: "chat" }, conv.interactions.map(turn));
  root.append(
    h("div", { class: "page-head" },
      h("div", {}, h("div", { class: "crumbs" }, link(`#/user/${encodeURIComponent(user)}`, user, "user-link"), " / thread"),
        h("h1", { class: "thread-title" }, thread)),
      h("div", { class: "muted" }, `${conv.total} interactions`)),
    list);
  if (conv.has_more) root.append(h("p", { class: "muted" }, "Showing the first 500 interactions."));
}

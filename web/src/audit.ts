// Audit: the audit log for the admin (GET /api/audit, admin key only), newest first, filtered
// by action, actor, target user and time, paged by cursor. Without the admin key it says so.
import { ApiError, api } from "./api";
import { clear, fmtNum, fmtTime, h, link } from "./dom";

export interface AuditEntry {
  seq: number; ts: string; actor: string; action: string; target_user: string | null;
  path: string; status: number; count: number | null; request_id: string;
}
interface AuditPage { entries: AuditEntry[]; has_more: boolean; next_cursor: string | null }

const FILTERS = ["action", "actor", "target_user", "from", "to"] as const;
const ACTIONS = ["auth_failed", "export", "erase_user", "feedback", "retention_set", "retention_get",
  "retention_delete", "retention_run", "hold_set", "hold_release", "holds_list", "chain_head", "audit_read",
  "replay_start", "replay_list", "replay_get", "replay_results", "replay_delete"];

function row(e: AuditEntry): HTMLElement {
  const failed = e.status >= 400;
  return h("tr", { class: failed ? "row failed" : "row", "data-seq": String(e.seq), "data-action": e.action },
    h("td", { class: "nowrap muted", title: e.ts }, fmtTime(e.ts)),
    h("td", { class: "nowrap" }, e.actor),
    h("td", {}, h("span", { class: "chip" + (e.action === "auth_failed" ? " bad" : "") }, e.action)),
    h("td", {}, e.target_user ? link(`#/user/${encodeURIComponent(e.target_user)}`, e.target_user, "user-link") : ""),
    h("td", { class: "small" }, h("code", {}, e.path)),
    h("td", { class: "num" }, h("span", { class: "badge " + (failed ? "neg" : "pos") }, String(e.status))),
    h("td", { class: "num" }, e.count === null ? "" : fmtNum(e.count)),
    h("td", { class: "small muted" }, h("code", {}, e.request_id)));
}

export async function renderAudit(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const form = h("form", { class: "filters", autocomplete: "off", id: "audit-filters" });
  const input = (name: string, placeholder: string, type = "text") =>
    h("input", { name, placeholder, type, value: params.get(name) ?? "", "aria-label": placeholder });
  const action = h("select", { name: "action", "aria-label": "action" },
    h("option", { value: "" }, "any action"), ACTIONS.map((a) => h("option", { value: a }, a)));
  action.value = params.get("action") ?? "";
  form.append(action, input("actor", "actor (admin, user:…, key:…, anonymous)"),
    input("target_user", "target user"),
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
    location.hash = "#/audit?" + next.toString();
  });

  const tbody = h("tbody", {});
  const status = h("p", { class: "muted small", id: "audit-status" });
  const more = h("button", { class: "more", type: "button", hidden: true }, "Load more");
  root.append(h("div", { class: "page-head" }, h("h1", {}, "Audit log"),
    h("div", { class: "muted small" }, "Who did what to whose data. No message text, keys or tokens are ever recorded.")),
    form,
    h("section", { class: "panel flush" },
      h("table", { class: "audit" },
        h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Actor"), h("th", {}, "Action"),
          h("th", {}, "Target"), h("th", {}, "Path"), h("th", {}, "Status"), h("th", {}, "Count"),
          h("th", {}, "Request id"))), tbody)),
    status, more);

  const query: Record<string, string> = { limit: "50" };
  for (const name of FILTERS) { const v = params.get(name); if (v) query[name] = v; }
  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    more.disabled = true;
    let page: AuditPage;
    try {
      page = await api<AuditPage>("/api/audit", { ...query, cursor: cursor ?? undefined });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        clear(status);
        status.className = "error";
        status.append("The audit log needs the admin key (OMNIFLOW_ADMIN_KEY): ", (err as Error).message);
        more.hidden = true;
        return;
      }
      throw err;
    }
    for (const e of page.entries) tbody.append(row(e));
    shown += page.entries.length;
    cursor = page.next_cursor;
    clear(status);
    status.append(shown === 0 ? "No entries match." : `${fmtNum(shown)} shown${page.has_more ? "" : " · end of the log"}`);
    more.hidden = !page.has_more;
    more.disabled = false;
  };
  more.addEventListener("click", () => void load());
  await load();
}

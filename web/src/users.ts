// Users: everyone with interactions (the caller alone without the admin key), most recently
// active first, paged by offset.
import { api, type UserSummary } from "./api";
import { fmtNum, fmtTime, h, link } from "./dom";

const PAGE = 100;

function row(u: UserSummary): HTMLElement {
  return h("tr", { "data-user": u.user_id },
    h("td", {}, link(`#/user/${encodeURIComponent(u.user_id)}`, u.user_id, "user-link")),
    h("td", { class: "num" }, fmtNum(u.interactions)),
    h("td", { class: "num" }, fmtNum(u.threads)),
    h("td", { class: "nowrap muted" }, fmtTime(u.first_seen)),
    h("td", { class: "nowrap muted" }, fmtTime(u.last_seen)));
}

export async function renderUsers(root: HTMLElement): Promise<void> {
  const first = await api<{ users: UserSummary[]; total: number }>("/api/users", { limit: String(PAGE) });
  const body = h("tbody", {}, first.users.map(row));
  let shown = first.users.length;
  const more = h("button", { type: "button", class: "more", hidden: shown >= first.total, onclick: async () => {
    more.disabled = true;
    const next = await api<{ users: UserSummary[]; total: number }>("/api/users",
      { limit: String(PAGE), offset: String(shown) });
    body.append(...next.users.map(row));
    shown += next.users.length;
    more.hidden = next.users.length === 0 || shown >= next.total;
    more.disabled = false;
  } }, "Load more");
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Users"),
      h("div", { class: "muted", id: "users-total" }, `${fmtNum(first.total)} users`)),
    h("section", { class: "panel flush" },
      h("table", { class: "users" },
        h("thead", {}, h("tr", {}, h("th", {}, "User"), h("th", {}, "Interactions"), h("th", {}, "Threads"),
          h("th", {}, "First seen"), h("th", {}, "Last seen"))),
        body)),
    more);
}

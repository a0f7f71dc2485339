// The omniflow dashboard: a hash-routed single page (#/, #/interactions, #/users,
// #/thread/u/t, #/user/u, #/audit, #/replays, #/replay/id) over the analytics API; the audit page is the admin's. Credentials are entered once per browser session.
import "./style.css";
import { ApiError, loadCredentials, saveCredentials } from "./api";
import { renderAudit } from "./audit";
import { clear, h, icon } from "./dom";
import { renderInteractions } from "./interactions";
import { renderOverview } from "./overview";
import { renderReplay, renderReplays } from "./replays";
import { renderThread } from "./thread";
import { renderUser } from "./user";
import { renderUsers } from "./users";

const app = document.getElementById("app")!;
const main = h("main", { id: "view" });

function credentialsDialog(): HTMLDialogElement {
  const c = loadCredentials();
  const field = (name: string, label: string, value: string, type = "password") =>
    h("label", {}, label, h("input", { name, type, value, autocomplete: "off" }));
  const form = h("form", { method: "dialog", class: "creds" },
    h("h2", {}, "Credentials"),
    h("p", { class: "muted small" },
      "Kept in this browser tab's session only and sent as headers. The admin key ",
      "(OMNIFLOW_ADMIN_KEY) sees every user; a function key with a user id, or a user token, sees that user."),
    field("key", "Key (x-functions-key)", c.key),
    field("userId", "User id (X-User-Id)", c.userId, "text"),
    field("token", "Bearer token", c.token),
    h("div", { class: "row-end" },
      h("button", { type: "button", class: "ghost", onclick: () => {
        saveCredentials({ key: "", userId: "", token: "" });
        dialog.close();
        route();
      } }, "Clear"),
      h("button", { type: "submit", class: "primary" }, "Save")));
  const dialog = h("dialog", { id: "credentials" }, form);
  form.addEventListener("submit", () => {
    const data = new FormData(form);
    saveCredentials({ key: String(data.get("key") ?? ""), userId: String(data.get("userId") ?? ""),
                      token: String(data.get("token") ?? "") });
    setTimeout(route, 0);
  });
  return dialog;
}

function header(): HTMLElement {
  const nav = (href: string, label: string) => h("a", { href, "data-nav": href }, label);
  return h("header", { class: "top" },
    h("a", { href: "#/", class: "brand" }, h("span", { class: "logo" }), "omniflow"),
    h("nav", { class: "main-nav" }, nav("#/", "Overview"), nav("#/interactions", "Interactions"),
      nav("#/users", "Users"), nav("#/replays", "Replays"), nav("#/audit", "Audit")),
    h("form", { class: "quick-search", onsubmit: (e: Event) => {
      e.preventDefault();
      const q = ((e.target as HTMLFormElement).elements.namedItem("q") as HTMLInputElement).value.trim();
      location.hash = "#/interactions" + (q ? "?q=" + encodeURIComponent(q) : "");
    } }, h("input", { name: "q", type: "search", placeholder: "Search…", "aria-label": "quick search" })),
    h("button", { type: "button", class: "ghost", id: "open-credentials", onclick: () => {
      const old = document.getElementById("credentials");
      old?.remove();
      const d = credentialsDialog();
      document.body.append(d);
      d.showModal();
    } }, icon("key"), " Credentials"));
}

async function route(): Promise<void> {
  const hash = location.hash.slice(1) || "/";
  const [path, qs] = hash.split("?", 2);
  const params = new URLSearchParams(qs ?? "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    const target = a.dataset.nav!.slice(1);
    a.classList.toggle("active", target === "/" ? parts.length === 0 : path.startsWith(target));
  }
  clear(main);
  const view = h("div", { class: "view loading" });
  main.append(view);
  try {
    if (parts[0] === "interactions") await renderInteractions(view, params);
    else if (parts[0] === "users") await renderUsers(view);
    else if (parts[0] === "audit") await renderAudit(view, params);
    else if (parts[0] === "replays") await renderReplays(view, params);
    else if (parts[0] === "replay" && parts[1]) await renderReplay(view, parts[1]);
    else if (parts[0] === "thread" && parts.length >= 3) await renderThread(view, parts[1], parts.slice(2).join("/"));
    else if (parts[0] === "user" && parts[1]) await renderUser(view, parts[1]);
    else await renderOverview(view, params);
  } catch (e) {
    clear(view);
    const err = e as Error;
    const auth = e instanceof ApiError && (err as ApiError).status in { 401: 1, 403: 1 };
    view.append(h("div", { class: "empty" }, h("h2", {}, auth ? "Credentials needed" : "Something went wrong"),
      h("p", { class: "error" }, err.message),
      auth ? h("button", { class: "primary", onclick: () => document.getElementById("open-credentials")?.click() },
        "Enter credentials") : null));
  } finally {
    view.classList.remove("loading");
  }
}

app.append(header(), main);
window.addEventListener("hashchange", () => void route());
void route();

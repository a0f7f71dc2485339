// A user's data lifecycle on their page: export (their own credentials, or the admin key), and
// for the admin the retention policy, the legal hold and erasure with its signed receipt.
import {
  ApiError, deleteRetention, eraseUser, exportUser, getHold, getRetention, releaseHold, setHold,
  setRetention, type ExportFormat, type LegalHold, type Receipt, type RetentionPolicy,
} from "./api";
import { fmtNum, fmtTime, h, link } from "./dom";

// Offers `blob` to the browser as a file download.
function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// Records in an export: lines for jsonl and openai, CSV records (line breaks inside quoted
// fields do not count) without the header row.
export function countRecords(text: string, format: ExportFormat): number {
  if (format !== "csv") return text.split("\n").filter((line) => line.length > 0).length;
  let records = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\n" && !quoted) records++;
  }
  return Math.max(0, records - 1);
}

function exportPanel(user: string): HTMLElement {
  const status = h("p", { class: "muted small", id: "export-status" },
    "Downloads the interactions oldest first: JSON Lines (what history returns; omniflow import reads it ",
    "back), CSV, or OpenAI's chat fine-tuning format (one line per thread).");
  const format = h("select", { name: "format", "aria-label": "export format" },
    h("option", { value: "jsonl" }, "JSON Lines"), h("option", { value: "csv" }, "CSV"),
    h("option", { value: "openai" }, "OpenAI fine-tuning"));
  const button = h("button", { type: "submit", class: "primary" }, "Export");
  const form = h("form", { class: "inline", id: "export-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    const f = format.value as ExportFormat;
    button.disabled = true;
    status.className = "muted small";
    status.textContent = "Exporting…";
    try {
      const file = await exportUser(user, f);
      const n = countRecords(file.text, f);
      download(file.blob, file.filename);
      status.textContent = `${file.filename}: ${fmtNum(n)} ${f === "openai" ? "conversations" : "interactions"}, ` +
        `${fmtNum(Math.ceil(file.blob.size / 1024))} KiB.`;
    } catch (err) {
      status.className = "error small";
      status.textContent = (err as Error).message;
    } finally {
      button.disabled = false;
    }
  } }, format, button);
  return h("section", { class: "panel", id: "export-panel" }, h("h2", {}, "Export"), form, status);
}

// The retention policy and the legal hold, each with its controls; re-rendered after a change.
function policyPanel(user: string, policy: RetentionPolicy, hold: LegalHold | null): HTMLElement {
  const panel = h("section", { class: "panel", id: "policy-panel" });
  const message = h("p", { class: "error small", id: "policy-error" });
  const act = async (what: () => Promise<unknown>) => {
    message.textContent = "";
    try {
      await what();
      const [p, hd] = await Promise.all([getRetention(user), getHold(user)]);
      panel.replaceWith(policyPanel(user, p, hd));
    } catch (err) {
      message.textContent = (err as Error).message;
    }
  };
  const keep = policy.days === 0 ? "kept forever" : `kept ${fmtNum(policy.days)} days`;
  const days = h("input", { name: "days", type: "number", min: 0, max: 36500, step: 1,
                            value: policy.days, "aria-label": "retention days" });
  const reason = h("input", { name: "reason", type: "text", maxlength: 500, placeholder: "Reason, e.g. case 42",
                              "aria-label": "hold reason", value: hold?.reason ?? "" });
  panel.append(h("h2", {}, "Retention and legal hold"),
    h("p", { id: "retention-state" }, `Interactions are ${keep} `,
      h("span", { class: "muted" }, policy.source === "user" ? "(this user's override)." : "(the server's default).")),
    h("form", { class: "inline", onsubmit: (e: Event) => {
      e.preventDefault();
      if (days.value.trim() === "") {
        message.textContent = "Enter the days to keep (0 keeps forever).";
        return;
      }
      void act(() => setRetention(user, Number(days.value)));
    } }, h("label", { class: "muted small" }, "Days kept (0: forever) ", days),
      h("button", { type: "submit" }, "Set override"),
      policy.source === "user" ? h("button", { type: "button", class: "ghost",
        onclick: () => void act(() => deleteRetention(user)) }, "Use default") : null),
    h("p", { id: "hold-state", class: hold ? "held" : "" }, hold
      ? [h("b", {}, "Under legal hold"), ` since ${fmtTime(hold.since)}: `, h("span", { dir: "auto" }, hold.reason),
         ". Never purged nor erased until released."]
      : "No legal hold."),
    h("form", { class: "inline", onsubmit: (e: Event) => {
      e.preventDefault();
      void act(() => setHold(user, reason.value));
    } }, reason, h("button", { type: "submit" }, hold ? "Update hold" : "Place hold"),
      hold ? h("button", { type: "button", class: "ghost", onclick: () => void act(() => releaseHold(user)) },
        "Release hold") : null),
    message);
  return panel;
}

function receiptView(receipt: Receipt, raw: string): HTMLElement {
  const row = (label: string, value: string, cls = "") =>
    h("tr", {}, h("th", {}, label), h("td", { class: cls }, value));
  const counts = Object.entries(receipt.counts);
  return h("section", { class: "panel receipt", id: "receipt" },
    h("h2", {}, "Erasure receipt"),
    h("p", { class: "muted small" },
      "Signed with Ed25519 by the server's receipt key. Check it offline with ",
      h("code", {}, "omniflow verify-receipt"), " and the key from ",
      link("/api/receipts/public-key", "/api/receipts/public-key"), "."),
    h("table", {}, h("tbody", {},
      row("Receipt id", receipt.receipt_id, "mono"),
      row("User", receipt.user_id),
      row("Erased at", `${fmtTime(receipt.erased_at)} (${receipt.erased_at})`),
      counts.map(([k, v]) => h("tr", { class: "count-row" },
        h("th", {}, k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, " ")),
        h("td", { class: "count-cell", "data-count": k }, fmtNum(v)))),
      row("Digest", receipt.digest, "mono"),
      row("Key id", receipt.key_id, "mono"),
      row("Signature", receipt.signature, "mono"))),
    h("div", { class: "row-end" },
      h("button", { type: "button", class: "primary", onclick: () =>
        download(new Blob([raw], { type: "application/json" }), `receipt-${receipt.receipt_id}.json`) },
        "Download receipt"),
      link("#/users", "All users →", "button")));
}

// The erase button and its confirmation dialog: the user id must be typed to enable it. On
// success `done` gets the receipt; a legal hold (409) or any other refusal stays in the dialog.
function erasePanel(user: string, done: (receipt: Receipt, raw: string) => void): HTMLElement {
  const open = () => {
    document.getElementById("erase-dialog")?.remove();
    const confirmInput = h("input", { name: "confirm", type: "text", autocomplete: "off",
                                      "aria-label": "type the user id to confirm" });
    const submit = h("button", { type: "submit", class: "danger", disabled: true }, "Erase permanently");
    const error = h("p", { class: "error small", id: "erase-error" });
    confirmInput.addEventListener("input", () => { submit.disabled = confirmInput.value !== user; });
    const form = h("form", { class: "creds" },
      h("h2", {}, "Erase this user?"),
      h("p", {}, "Everything stored for ", h("b", {}, user),
        " is erased at once and for good: interactions, tool calls, feedback, threads, search entries, ",
        "data documents, spooled records and the retention override. The answer is a signed receipt."),
      h("label", {}, `Type ${user} to confirm`, confirmInput),
      error,
      h("div", { class: "row-end" },
        h("button", { type: "button", class: "ghost", onclick: () => dialog.close() }, "Cancel"),
        submit));
    const dialog = h("dialog", { id: "erase-dialog" }, form);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (confirmInput.value !== user) return;
      submit.disabled = true;
      error.textContent = "";
      try {
        const { receipt, raw } = await eraseUser(user);
        dialog.close();
        dialog.remove();
        done(receipt, raw);
      } catch (err) {
        const held = err instanceof ApiError && err.status === 409;
        error.textContent = (held ? "Not erased: " : "") + (err as Error).message;
        submit.disabled = confirmInput.value !== user;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    confirmInput.focus();
  };
  return h("section", { class: "panel danger-zone", id: "erase-panel" }, h("h2", {}, "Erase"),
    h("p", { class: "muted small" },
      "Erases everything stored for this user (GDPR art. 17) and answers a signed receipt. ",
      "A user under legal hold cannot be erased."),
    h("button", { type: "button", class: "danger", onclick: open }, "Erase user…"));
}

// The lifecycle panels for `user`. Admin-only parts appear when the admin calls succeed (the
// admin key, or the open development mode); `erased` replaces the page with the receipt.
export async function lifecyclePanels(user: string, erased: (view: HTMLElement) => void): Promise<HTMLElement> {
  const box = h("div", { class: "grid", id: "lifecycle" });
  box.append(exportPanel(user));
  try {
    const [policy, hold] = await Promise.all([getRetention(user), getHold(user)]);
    box.append(policyPanel(user, policy, hold), erasePanel(user, (receipt, raw) => {
      const view = h("div", {});
      view.append(h("div", { class: "page-head" }, h("div", {}, h("div", { class: "crumbs" }, "user"),
        h("h1", { class: "user-title" }, user)), h("span", { class: "badge" }, "erased")),
        receiptView(receipt, raw));
      erased(view);
    }));
  } catch (err) {
    const auth = err instanceof ApiError && (err.status === 401 || err.status === 403);
    box.append(h("section", { class: "panel" }, h("h2", {}, "Retention, legal hold and erasure"),
      auth ? h("p", { class: "muted" }, "These need the admin key (OMNIFLOW_ADMIN_KEY).")
           : h("p", { class: "error" }, (err as Error).message)));
  }
  return box;
}

// The dashboard's client of the analytics and lifecycle API. Credentials live in sessionStorage and travel as
// headers only (x-functions-key, X-User-Id, Authorization), never in URLs.
export interface Credentials {
  key: string;
  userId: string;
  token: string;
}

const STORAGE = "omniflow.credentials";

export function loadCredentials(): Credentials {
  try {
    const raw = sessionStorage.getItem(STORAGE);
    if (raw) return { key: "", userId: "", token: "", ...JSON.parse(raw) };
  } catch {
    /* ignore */
  }
  return { key: "", userId: "", token: "" };
}

export function saveCredentials(c: Credentials): void {
  sessionStorage.setItem(STORAGE, JSON.stringify(c));
}

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

function authHeaders(): Record<string, string> {
  const c = loadCredentials();
  const headers: Record<string, string> = {};
  if (c.key) headers["x-functions-key"] = c.key;
  if (c.userId) headers["X-User-Id"] = c.userId;
  if (c.token) headers["Authorization"] = "Bearer " + c.token;
  return headers;
}

// Sends a request with the session's credentials; the response when it is 2xx, else an ApiError
// carrying the server's "error" message.
export async function send(path: string, params: Record<string, string | undefined> = {},
                           init: RequestInit = {}, accept = "application/json"): Promise<Response> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") qs.set(k, v);
  const headers: Record<string, string> = { Accept: accept, ...authHeaders() };
  if (init.body) headers["Content-Type"] = "application/json";
  const url = path + (qs.toString() ? "?" + qs.toString() : "");
  const res = await fetch(url, { ...init, headers });
  if (!res.ok) {
    let body: any = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, body?.error ?? res.statusText);
  }
  return res;
}

export async function api<T>(path: string, params: Record<string, string | undefined> = {},
                             init: RequestInit = {}): Promise<T> {
  const res = await send(path, params, init);
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  return body as T;
}

// Token counts: input includes cached_input, output includes reasoning (docs/cost.md).
export interface Tokens { input: number; cached_input: number; output: number; reasoning: number }
// Token usage and its cost (USD, as priced when each interaction was saved).
export interface Usage { tokens: Tokens; cost_usd: number; unpriced_interactions: number }
export interface Bucket extends Usage {
  start: string; interactions: number; tool_calls: number; tool_failures: number;
}
export interface Stats {
  scope: { user_id: string | null; from: string | null; to: string | null };
  totals: Usage & { interactions: number; tool_calls: number; tool_failures: number;
                    tool_failure_rate: number; active_users: number; threads: number;
                    usage_interactions: number };
  per_day: Bucket[];
  per_hour: Bucket[];
  top_tools: { tool_name: string; calls: number; failures: number; failure_rate: number }[];
  top_users: { user_id: string; interactions: number }[];
  top_threads: { user_id: string; thread_id: string; interactions: number; last_timestamp: string }[];
  top_requests: { text: string; count: number }[];
  requests_sampled: number;
  feedback: { count: number; positive: number; neutral: number; negative: number; average: number };
  usage_by_model: (Usage & { model: string; interactions: number })[];
  usage_by_user: (Usage & { user_id: string; interactions: number })[];
}
export interface Feedback { score: number; comment: string; updated_at: string }
export interface ToolCall { tool_name: string; arguments: unknown; result: unknown; status: string }
export interface Interaction {
  interaction_id: string;
  timestamp: string;
  user_id: string;
  thread_id: string | null;
  user_message: string;
  assistant_response: string;
  tool_calls: ToolCall[];
  metadata: Record<string, unknown>;
  feedback: Feedback | null;
}
export interface SearchPage { interactions: Interaction[]; has_more: boolean; next_cursor: string | null }
export interface Conversation extends SearchPage { user_id: string; thread_id: string; total: number }
export interface ThreadSummary {
  user_id: string; thread_id: string; interactions: number;
  first_timestamp: string; last_timestamp: string; first_message: string; last_message: string;
}
export interface UserSummary {
  user_id: string; interactions: number; threads: number; first_seen: string; last_seen: string;
}

export function setFeedback(id: string, score: number, comment = ""): Promise<{ feedback: Feedback }> {
  return api(`/api/interactions/${encodeURIComponent(id)}/feedback`, {}, {
    method: "POST",
    body: JSON.stringify({ score, comment }),
  });
}

// The data lifecycle: export, retention, legal holds, erasure (docs/lifecycle.md).
export type ExportFormat = "jsonl" | "csv" | "openai";
export interface ExportFile { blob: Blob; filename: string; text: string }

// The whole export of `user` in `format`, read into memory (the server streams it; a browser
// download of one user's data is small enough to hold).
export async function exportUser(user: string, format: ExportFormat): Promise<ExportFile> {
  const res = await send("/api/export", { format, user_id: user }, {}, "*/*");
  const text = await res.text();
  const ext = format === "csv" ? "csv" : "jsonl";
  const type = res.headers.get("Content-Type") ?? "application/octet-stream";
  return { blob: new Blob([text], { type }), filename: `omniflow-${user}-${format}.${ext}`, text };
}

export interface RetentionPolicy { user_id: string; days: number; source: "user" | "default" }
export interface LegalHold { user_id: string; reason: string; since: string }

const userPath = (user: string, rest = "") => `/api/users/${encodeURIComponent(user)}${rest}`;

export function getRetention(user: string): Promise<RetentionPolicy> {
  return api(userPath(user, "/retention"));
}
export function setRetention(user: string, days: number): Promise<RetentionPolicy> {
  return api(userPath(user, "/retention"), {}, { method: "PUT", body: JSON.stringify({ days }) });
}
export function deleteRetention(user: string): Promise<RetentionPolicy> {
  return api(userPath(user, "/retention"), {}, { method: "DELETE" });
}
export async function getHold(user: string): Promise<LegalHold | null> {
  const r = await api<{ holds: LegalHold[] }>("/api/holds");
  return r.holds.find((h) => h.user_id === user) ?? null;
}
export async function setHold(user: string, reason: string): Promise<LegalHold> {
  return (await api<{ hold: LegalHold }>(userPath(user, "/hold"), {},
    { method: "PUT", body: JSON.stringify({ reason }) })).hold;
}
export function releaseHold(user: string): Promise<unknown> {
  return api(userPath(user, "/hold"), {}, { method: "DELETE" });
}

export interface Receipt {
  receipt_id: string; user_id: string; erased_at: string; key_id: string; digest: string;
  signature: string; counts: Record<string, number>;
}
// Erases `user`; the receipt, and the answer's exact text (what `omniflow verify-receipt` reads).
export async function eraseUser(user: string): Promise<{ receipt: Receipt; raw: string }> {
  const res = await send(userPath(user), {}, { method: "DELETE" });
  const raw = await res.text();
  return { receipt: (JSON.parse(raw) as { receipt: Receipt }).receipt, raw };
}

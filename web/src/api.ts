// The dashboard's client of the analytics API. Credentials live in sessionStorage and travel as
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

export async function api<T>(path: string, params: Record<string, string | undefined> = {},
                             init: RequestInit = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") qs.set(k, v);
  const c = loadCredentials();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (c.key) headers["x-functions-key"] = c.key;
  if (c.userId) headers["X-User-Id"] = c.userId;
  if (c.token) headers["Authorization"] = "Bearer " + c.token;
  if (init.body) headers["Content-Type"] = "application/json";
  const url = path + (qs.toString() ? "?" + qs.toString() : "");
  const res = await fetch(url, { ...init, headers });
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new ApiError(res.status, body?.error ?? res.statusText);
  return body as T;
}

export interface Bucket { start: string; interactions: number; tool_calls: number; tool_failures: number }
export interface Stats {
  scope: { user_id: string | null; from: string | null; to: string | null };
  totals: { interactions: number; tool_calls: number; tool_failures: number;
            tool_failure_rate: number; active_users: number; threads: number };
  per_day: Bucket[];
  per_hour: Bucket[];
  top_tools: { tool_name: string; calls: number; failures: number; failure_rate: number }[];
  top_users: { user_id: string; interactions: number }[];
  top_threads: { user_id: string; thread_id: string; interactions: number; last_timestamp: string }[];
  top_requests: { text: string; count: number }[];
  requests_sampled: number;
  feedback: { count: number; positive: number; neutral: number; negative: number; average: number };
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

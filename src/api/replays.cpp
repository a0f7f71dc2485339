// The replay routes: parse, call the ReplayStore or the Runner, answer (api/replay_handlers.h).
#include <simdjson.h>

#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/audit.h"
#include "api/replay_handlers.h"
#include "api/replay_request.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

Status NoReplays() { return Status::Unavailable("replays are not available on this server"); }

void Time(std::string_view key, int64_t ts_us, JsonWriter* w) {
  w->Key(key);
  ts_us > 0 ? w->String(FormatTimestamp(ts_us)) : w->Null();
}

// A replay as the listings show it: {"replay_id","name","state","actor","created_at",
// "finished_at","error","progress":{"done","total"},"request"}.
void WriteInfo(const ReplayInfo& info, JsonWriter* w) {
  w->BeginObject()
      .Field("replay_id", info.replay_id)
      .Field("name", info.name)
      .Field("state", info.state)
      .Field("actor", info.actor);
  Time("created_at", info.created_us, w);
  Time("finished_at", info.finished_us, w);
  w->Key("error");
  info.error.empty() ? w->Null() : w->String(info.error);
  w->Key("progress").BeginObject().Field("done", info.done).Field("total", info.total).EndObject();
  w->RawField("request", info.spec_json);
}

// `key`: {"items","priced_items","unpriced_items","tokens":{...},"cost_usd"}: the items whose side
// reported usage, those of them priced and not (their tokens counted, their cost not, as in
// /api/stats), the token sums and the cost of the priced ones.
void WriteTotals(std::string_view key, const UsageTotals& u, JsonWriter* w) {
  w->Key(key)
      .BeginObject()
      .Field("items", u.interactions)
      .Field("priced_items", u.interactions - u.unpriced)
      .Field("unpriced_items", u.unpriced);
  TokensAndCost(u, w);
  w->EndObject();
}

// `key`: {"model","tokens":{...},"cost_usd"} (cost_usd null without a price), or null without
// usage.
void WriteUsage(std::string_view key, const std::optional<StoredUsage>& u, JsonWriter* w) {
  w->Key(key);
  if (!u) {
    w->Null();
    return;
  }
  w->BeginObject()
      .Field("model", u->model)
      .Key("tokens")
      .BeginObject()
      .Field("input", u->tokens.input)
      .Field("cached_input", u->tokens.cached_input)
      .Field("output", u->tokens.output)
      .Field("reasoning", u->tokens.reasoning)
      .EndObject();
  u->cost_nanos ? w->RawField("cost_usd", UsdText(*u->cost_nanos)) : w->Key("cost_usd").Null();
  w->EndObject();
}

double Mean(int64_t sum, int64_t n) { return n > 0 ? static_cast<double>(sum) / n : 0; }

void WriteSummary(const ReplaySummary& s, JsonWriter* w) {
  w->Key("summary")
      .BeginObject()
      .Field("replayed", s.replayed)
      .Field("changed", s.changed)
      .Field("failures_fixed", s.fixed)
      .Field("failures_introduced", s.introduced)
      .Field("errors", s.errors)
      .Field("tool_sequence_same", s.same_tools)
      .Key("tool_sequence_agreement")
      .Double(Mean(s.same_tools, s.replayed), 4);
  w->Key("latency_ms")
      .BeginObject()
      .Key("original_mean")
      .Double(Mean(s.original_latency_ms, s.replayed), 6)
      .Key("replay_mean")
      .Double(Mean(s.latency_ms, s.replayed), 6)
      .EndObject();
  w->Key("tokens")
      .BeginObject()
      .Field("original", s.original_tokens)
      .Field("replay", s.tokens)
      .EndObject();
  w->Key("usage").BeginObject();
  WriteTotals("original", s.original_usage, w);
  WriteTotals("replay", s.usage, w);
  w->EndObject();
  w->Key("cost")
      .BeginObject()
      .RawField("original", UsdText(s.original_usage.cost_nanos))
      .RawField("replay", UsdText(s.usage.cost_nanos))
      .EndObject()
      .EndObject();
}

Result<ReplayItemsQuery> ParseResultsQuery(const std::string& replay_id, const QueryParams& q) {
  for (const auto& [name, value] : q.all()) {
    if (name != "cursor" && name != "limit" && name != "changed" && name != "code") {
      return Status::InvalidArgument("unknown parameter \"" + name.substr(0, 64) +
                                     "\": results take cursor, limit and changed");
    }
  }
  ReplayItemsQuery query;
  query.replay_id = replay_id;
  Result<int64_t> limit = q.GetInt("limit", 1, 200, 50);
  if (!limit.ok()) return limit.status();
  query.limit = static_cast<int>(*limit);
  if (auto changed = q.Get("changed")) {
    if (*changed != "true" && *changed != "false") {
      return Status::InvalidArgument("changed must be true or false");
    }
    query.changed_only = *changed == "true";
  }
  if (auto cursor = q.Get("cursor")) {
    // The listings' cursor: the last item's number where a timestamp would be.
    Result<HistoryCursor> decoded = DecodeCursor(*cursor);
    if (!decoded.ok()) return decoded.status();
    query.after_item = decoded->ts_us;
  }
  return query;
}

}  // namespace

std::string ReplayStatusJson(const ReplayInfo& info, const ReplaySummary& summary) {
  JsonWriter w;
  WriteInfo(info, &w);
  WriteSummary(summary, &w);
  w.EndObject();
  return w.Release();
}

void StartReplay(const ApiContext& context, const Call& call, http::Respond respond) {
  const ReplayContext& r = context.replays;
  if (r.runner == nullptr) return respond(ErrorFrom(NoReplays()));
  Result<replay::ReplaySpec> spec = ParseReplaySpec(call.request.body);
  if (!spec.ok()) return respond(ErrorFrom(spec.status()));
  if (!r.runner->CanCall(spec->candidate)) {
    return respond(ErrorFrom(Status::Unavailable(
        "no LLM provider is configured: set OMNIFLOW_LLM_BASE_URL and OMNIFLOW_LLM_MODEL, or "
        "give the candidate a base_url and a model")));
  }
  Result<std::string> id = r.runner->Start(*spec, std::string(call.request.body),
                                           ActorOf(call.caller.kind, call.caller.user_id, {}));
  if (!id.ok()) return respond(StoreError(id.status()));
  JsonWriter w;
  w.BeginObject().Field("replay_id", *id).EndObject();
  respond(JsonResponse(202, w.Release()));
}

void ListReplays(const ApiContext& context, const Call& call, http::Respond respond) {
  if (context.replays.store == nullptr) return respond(ErrorFrom(NoReplays()));
  Result<int64_t> limit = call.query.GetInt("limit", 1, 1000, 100);
  if (!limit.ok()) return respond(ErrorFrom(limit.status()));
  Result<std::vector<ReplayInfo>> all = context.replays.store->List(static_cast<int>(*limit));
  if (!all.ok()) return respond(StoreError(all.status()));
  JsonWriter w;
  w.BeginObject().Key("replays").BeginArray();
  for (const ReplayInfo& info : *all) {
    WriteInfo(info, &w);
    w.EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Release()));
}

void GetReplay(const ApiContext& context, const Call& call, http::Respond respond) {
  ReplayStore* store = context.replays.store;
  if (store == nullptr) return respond(ErrorFrom(NoReplays()));
  Result<ReplayInfo> info = store->Get(call.params[0]);
  if (!info.ok()) return respond(StoreError(info.status()));
  Result<ReplaySummary> summary = store->Summarize(call.params[0]);
  if (!summary.ok()) return respond(StoreError(summary.status()));
  respond(JsonResponse(200, ReplayStatusJson(*info, *summary)));
}

void GetReplayResults(const ApiContext& context, const Call& call, http::Respond respond) {
  ReplayStore* store = context.replays.store;
  if (store == nullptr) return respond(ErrorFrom(NoReplays()));
  Result<ReplayItemsQuery> query = ParseResultsQuery(call.params[0], call.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<ReplayItemsPage> page = store->Items(*query);
  if (!page.ok()) return respond(StoreError(page.status()));
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const ReplayItem& item : page->items) {
    // {"item_no","user_id","interaction_id","original", then the result's "replay" and
    // "comparison", then "usage": {"original","replay"} with their tokens and cost}.
    w.BeginObject()
        .Field("item_no", item.target.item_no)
        .Field("user_id", item.target.user_id)
        .Field("interaction_id", item.target.interaction_id)
        .RawField("original", item.target.original_json);
    std::string_view result = item.result->result_json;  // {"replay":...,"comparison":...}
    w.Raw(result.substr(1, result.size() - 2)).Key("usage").BeginObject();
    WriteUsage("original", item.target.original_usage, &w);
    WriteUsage("replay", item.result->usage, &w);
    w.EndObject().EndObject();
  }
  w.EndArray().Field("has_more", page->has_more).Key("next_cursor");
  if (page->has_more && page->next) {
    const ReplayItem& last = page->items.back();
    w.String(EncodeCursor(HistoryCursor{*page->next, last.target.interaction_id}));
  } else {
    w.Null();
  }
  w.EndObject();
  respond(JsonResponse(200, w.Release()));
}

void DeleteReplay(const ApiContext& context, const Call& call, http::Respond respond) {
  if (context.replays.runner == nullptr) return respond(ErrorFrom(NoReplays()));
  Status s = context.replays.runner->Remove(call.params[0]);
  if (!s.ok()) return respond(StoreError(s));
  JsonWriter w;
  w.BeginObject().Field("status", "success").Field("replay_id", call.params[0]).EndObject();
  respond(JsonResponse(200, w.Release()));
}

}  // namespace omniflow::api

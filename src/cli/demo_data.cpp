#include "cli/demo_data.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow {

namespace {

struct Topic {
  const char* question;
  const char* answer;
  const char* tool;        // nullptr: no tool call
  const char* arguments;   // JSON object
  const char* result;      // JSON value on success
  const char* error;       // JSON value on failure
};

// Conversations in several languages; a few carry markup to show that the dashboard keeps it
// inert.
constexpr Topic kTopics[] = {
    {"What tasks do I have today?", "You have 3 tasks today: review the budget, call the dentist and draft the report.",
     "get_tasks", R"({"date":"today","status":"pending"})",
     R"({"tasks":[{"id":"t1","title":"Review the budget"},{"id":"t2","title":"Call the dentist"},{"id":"t3","title":"Draft the report"}]})",
     R"({"error":"tasks.json is temporarily unavailable"})"},
    {"Add a task: buy groceries tomorrow", "Done: \"Buy groceries\" is on your list for tomorrow.",
     "add_new_data", R"({"blob":"tasks.json","entry":{"title":"Buy groceries","due":"tomorrow"}})",
     R"({"entry_id":"e42","entry_count":12})", R"({"error":"blob name rejected"})"},
    {"Summarise my notes about the project launch", "Your launch notes: marketing starts Monday, the beta has 120 testers, and the pricing page still needs review.",
     "get_data", R"({"blob":"notes.json","query":"launch"})", R"({"entries":3})",
     R"({"error":"timeout after 5s"})"},
    {"What's the weather in Berlin?", "It is 14°C and cloudy in Berlin, with light rain expected in the evening.",
     "get_weather", R"({"city":"Berlin","units":"metric"})", R"({"temp_c":14,"conditions":"cloudy"})",
     R"({"error":"upstream weather API returned 503"})"},
    {"Schedule a meeting with Anna on Friday at 10", "I scheduled \"Meeting with Anna\" for Friday at 10:00.",
     "create_event", R"({"title":"Meeting with Anna","start":"Friday 10:00","duration_min":30})",
     R"({"event_id":"ev_981"})", R"({"error":"calendar conflict at Friday 10:00"})"},
    {"今日の予定を教えてください", "今日の予定は3件です：10時にチーム会議、13時に東京で昼食、16時に報告書の提出です。",
     "get_events", R"({"date":"today","locale":"ja-JP"})", R"({"events":3})",
     R"({"error":"カレンダーに接続できません"})"},
    {"明日の東京の天気は？", "明日の東京は晴れ、最高気温は18度の予報です。", "get_weather",
     R"({"city":"東京","units":"metric"})", R"({"temp_c":18,"conditions":"晴れ"})",
     R"({"error":"天気サービスがタイムアウトしました"})"},
    {"買い物リストに牛乳を追加して", "牛乳を買い物リストに追加しました。", "add_new_data",
     R"({"blob":"shopping.json","entry":{"item":"牛乳"}})", R"({"entry_id":"e7"})",
     R"({"error":"保存に失敗しました"})"},
    {"ما هي مهامي لهذا اليوم؟", "لديك مهمتان اليوم: مراجعة الميزانية والاتصال بالعميل.", "get_tasks",
     R"({"date":"today","locale":"ar"})", R"({"tasks":2})", R"({"error":"الخدمة غير متاحة"})"},
    {"ذكرني بالاجتماع غدا الساعة التاسعة", "حسنا، سأذكرك بالاجتماع غدا الساعة التاسعة صباحا.",
     "create_reminder", R"({"at":"tomorrow 09:00","text":"الاجتماع"})", R"({"reminder_id":"r5"})",
     R"({"error":"تعذر إنشاء التذكير"})"},
    {"Какие у меня задачи на сегодня?", "На сегодня у вас две задачи: отправить отчёт и позвонить в банк.",
     "get_tasks", R"({"date":"today","locale":"ru"})", R"({"tasks":2})",
     R"({"error":"сервис задач недоступен"})"},
    {"Переведи встречу с Иваном на среду", "Встреча с Иваном перенесена на среду, 11:00.",
     "update_event", R"({"event":"Встреча с Иваном","new_day":"Wednesday"})", R"({"ok":true})",
     R"({"error":"событие не найдено"})"},
    {"¿Cuál es mi próxima reunión?", "Tu próxima reunión es a las 15:00 con el equipo de diseño.",
     "get_events", R"({"next":1,"locale":"es"})", R"({"events":1})", R"({"error":"sin conexión"})"},
    {"Thanks, that's all for now", "You're welcome! Have a great day.", nullptr, nullptr, nullptr, nullptr},
    {"Can you explain what a Kubernetes pod is?", "A pod is the smallest deployable unit in Kubernetes: one or more containers that share storage and network.",
     nullptr, nullptr, nullptr, nullptr},
    {"Show this snippet as text: <script>alert('xss')</script> <img src=x onerror=alert(1)>",
     "Here it is, shown as plain text: <script>alert('xss')</script> and <img src=x onerror=alert(1)>.",
     "search_web", R"({"query":"<script>alert(1)</script>"})", R"({"results":[]})",
     R"({"error":"<b>blocked</b> by policy"})"},
};

constexpr const char* kNames[] = {"alice", "bob", "carol", "dmitri", "emi", "farah", "gus",
                                  "hana", "ivan", "jamal", "kenji", "lena", "maria", "nadia",
                                  "oleg", "priya", "quinn", "rania", "sota", "tariq"};

}  // namespace

Result<int64_t> GenerateDemoData(const DemoOptions& options, InteractionStore* store,
                                 AnalyticsStore* analytics) {
  std::mt19937_64 rng(options.seed);
  const int64_t now = options.now_us ? options.now_us : Clock::Real()->NowMicros();
  const int64_t span = int64_t{options.days} * 24 * 3600 * 1000000;
  // Timestamps: sorted, strictly increasing, busier in daytime hours. They are made an hour of
  // the range at a time, so that memory stays small at any count: each hour gets its share of
  // what is left (a daytime hour weighs three times a night hour), drawn binomially, and its
  // times are sorted within it.
  constexpr int64_t kHourUs = int64_t{3600} * 1000000;
  auto hour_weight = [](int64_t t) {
    const int hour = static_cast<int>((t / kHourUs) % 24);
    return hour < 6 || hour > 21 ? 1.0 : 3.0;
  };
  const int64_t start = now - span;
  double weight_left = 0;
  for (int64_t h = start - start % kHourUs; h < now; h += kHourUs) {
    const int64_t lo = std::max(h, start), hi = std::min(h + kHourUs, now);
    weight_left += hour_weight(h) * static_cast<double>(hi - lo) / kHourUs;
  }

  // Users have different activity levels (a few busy ones) and threads of a few turns.
  std::vector<std::string> users;
  for (int u = 0; u < options.users; ++u) {
    users.push_back(std::string(kNames[u % std::size(kNames)]) +
                    (u >= static_cast<int>(std::size(kNames)) ? "_" + std::to_string(u) : ""));
  }
  std::vector<double> weights;
  for (int u = 0; u < options.users; ++u) weights.push_back(1.0 / (1 + u * 0.35));
  std::discrete_distribution<int> pick_user(weights.begin(), weights.end());
  std::vector<int> thread_of(users.size(), 0), turns_left(users.size(), 0);

  std::vector<InteractionRecord> batch;
  std::vector<std::pair<std::string, std::string>> rated;  // (user, id) of the batch
  constexpr const char* kComments[] = {"", "", "Exactly what I needed", "Wrong meeting time",
                                       "とても役に立ちました", "ممتاز", "Не то, что я просил",
                                       "Too slow"};
  int64_t written = 0;
  // Appends the batch, then rates those of its interactions that were picked for feedback.
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    if (Status s = store->Append(batch); !s.ok()) return s;
    written += static_cast<int64_t>(batch.size());
    batch.clear();
    std::vector<FeedbackWrite> ratings;
    for (auto& [user, id] : rated) {
      const uint64_t r = rng() % 10;
      FeedbackWrite w{std::move(user), std::move(id), {}};
      w.feedback.score = r < 6 ? 1 : r < 8 ? 0 : -1;
      w.feedback.comment = kComments[rng() % std::size(kComments)];
      w.feedback.updated_us = now;
      ratings.push_back(std::move(w));
    }
    rated.clear();
    if (Status s = analytics->SetFeedbacks(ratings); !s.ok()) return s;
    if (options.progress) options.progress(written, options.interactions);
    return Status::Ok();
  };
  std::vector<int64_t> times;  // the current hour's
  int64_t left = options.interactions, last_ts = 0;
  for (int64_t h = start - start % kHourUs; h < now && left > 0; h += kHourUs) {
    const int64_t lo = std::max(h, start), hi = std::min(h + kHourUs, now);
    const double w = hour_weight(h) * static_cast<double>(hi - lo) / kHourUs;
    int64_t k = left;  // the last hour takes the rest
    if (hi < now && w < weight_left) {
      std::binomial_distribution<int64_t> share(left, w / weight_left);
      k = share(rng);
    }
    weight_left -= w;
    left -= k;
    std::uniform_int_distribution<int64_t> when(lo, hi - 1);
    times.clear();
    for (int64_t i = 0; i < k; ++i) times.push_back(when(rng));
    std::sort(times.begin(), times.end());
    for (int64_t ts : times) {
      ts = std::max(ts, last_ts + 1);
      last_ts = ts;
      const int u = pick_user(rng);
      if (turns_left[u]-- <= 0) {
        ++thread_of[u];
        // Most conversations are short; one in five runs long.
        turns_left[u] = static_cast<int>(rng() % 5 == 0 ? 5 + rng() % 25 : rng() % 5);
      }
      const Topic& topic = kTopics[rng() % std::size(kTopics)];
      const bool failed = topic.tool && rng() % 100 < 12;
      JsonWriter body;
      body.BeginObject()
          .Field("user_message", topic.question)
          .Field("assistant_response",
                 failed ? "Sorry, something went wrong: I could not complete that right now."
                        : topic.answer)
          .Field("thread_id", "thread_" + users[u] + "_" + std::to_string(thread_of[u]));
      if (topic.tool) {
        body.Key("tool_calls")
            .BeginArray()
            .BeginObject()
            .Field("tool_name", topic.tool)
            .RawField("arguments", topic.arguments)
            .RawField("result", failed ? topic.error : topic.result)
            .Field("status", failed ? "error" : "success")
            .EndObject()
            .EndArray();
      }
      // Token usage as OpenAI reports it: cached prompt tokens on later turns of a thread.
      const int64_t prompt = 300 + static_cast<int64_t>(rng() % 2700);
      const int64_t cached = turns_left[u] > 0 ? prompt / 2 : 0;
      const int64_t completion = 40 + static_cast<int64_t>(rng() % 500);
      body.Key("metadata")
          .BeginObject()
          .Field("source", "demo")
          .Field("model", rng() % 10 == 0 ? "gpt-4o" : "gpt-4o-mini")
          .Field("latency_ms", 200 + rng() % 2400)
          .Key("usage")
          .BeginObject()
          .Field("prompt_tokens", prompt)
          .Field("completion_tokens", completion)
          .Field("total_tokens", prompt + completion)
          .Key("prompt_tokens_details")
          .BeginObject()
          .Field("cached_tokens", cached)
          .EndObject()
          .EndObject()
          .EndObject()
          .EndObject();
      Result<SaveRequest> request = ParseSaveRequest(body.str());
      if (!request.ok()) return request.status();
      Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
      // Made-up text: no redaction (demo-data is not an ingest path for anyone's data); priced
      // by the default table.
      batch.push_back(BuildInteraction(stamp, users[u], std::move(*request),
                                       {nullptr, &PriceTable::Default()}));
      if (rng() % 100 < 8) rated.emplace_back(users[u], stamp.interaction_id);
      if (batch.size() == 2000) {
        if (Status s = flush(); !s.ok()) return s;
      }
    }
  }
  if (Status s = flush(); !s.ok()) return s;
  if (Status s = store->CatchUp({}); !s.ok()) return s;
  return written;
}

}  // namespace omniflow

#include <cmath>

#include <simdjson.h>

#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

constexpr size_t kMaxComment = 4000;

// {"score": -1|0|1 or a number in [0,1], "comment": "..."}; nothing else.
Result<Feedback> ParseFeedback(std::string_view body) {
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
    return Status::InvalidArgument("body must be a JSON object such as {\"score\": 1}");
  }
  simdjson::dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("body must be a JSON object such as {\"score\": 1}");
  }
  Feedback feedback;
  bool has_score = false;
  for (auto [key, value] : object) {
    if (key == "score") {
      double score = 0;
      if (value.is_bool() || value.get(score) != simdjson::SUCCESS || !std::isfinite(score) ||
          !(score == -1 || (score >= 0 && score <= 1))) {
        return Status::InvalidArgument("score must be -1, 0, 1 or a number between 0 and 1");
      }
      feedback.score = score;
      has_score = true;
    } else if (key == "comment") {
      std::string_view comment;
      if (value.get(comment) != simdjson::SUCCESS) {
        return Status::InvalidArgument("comment must be a string");
      }
      if (comment.size() > kMaxComment) {
        return Status::InvalidArgument("comment must be at most 4000 bytes");
      }
      feedback.comment = std::string(comment);
    } else {
      return Status::InvalidArgument("unknown field \"" + std::string(key) +
                                     "\": feedback takes score and comment");
    }
  }
  if (!has_score) return Status::InvalidArgument("score is required: -1, 0, 1 or 0..1");
  return feedback;
}

}  // namespace

void SetFeedback(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  const std::string& id = call.params[0];  // checked against the id grammar by the route table
  Result<Feedback> feedback = ParseFeedback(call.request.body);
  if (!feedback.ok()) return respond(ErrorFrom(feedback.status(), who));
  feedback->updated_us = Clock::Real()->NowMicros();
  // A comment is text a user wrote about an interaction: redacted as the interaction is.
  if (context.build.redactor != nullptr) {
    std::string redacted;
    if (context.build.redactor->Redact(feedback->comment, &redacted)) {
      feedback->comment = std::move(redacted);
    }
  }

  const Status not_found = Status::NotFound("no interaction with that id for this user");
  // A caller of all users acts for the interaction's owner; a user only for themselves.
  std::string owner = who;
  if (call.caller.all_users) {
    Result<std::string> found = context.analytics->OwnerOf(id);
    if (!found.ok()) {
      return respond(found.status().code() == Status::Code::kNotFound
                         ? ErrorFrom(not_found, who)
                         : StoreError(found.status(), who));
    }
    owner = std::move(*found);
  }
  Status s = context.analytics->SetFeedback(owner, id, *feedback);
  if (!s.ok()) {
    return respond(s.code() == Status::Code::kNotFound ? ErrorFrom(not_found, who)
                                                       : StoreError(s, who));
  }
  JsonWriter w;
  w.BeginObject().Field("status", "success").Field("interaction_id", id).Key("feedback");
  WriteFeedback(*feedback, &w);
  w.EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

}  // namespace omniflow::api
